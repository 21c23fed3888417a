// Browser voice client. Push to talk: record (MediaRecorder, webm/opus) -> /transcribe/ ->
// /chat/stream (steps shown as they stream) -> /synthesize/ (reply played back). Hands-free: the
// microphone streams to /voice/ws (AudioWorklet, 16 kHz PCM), the server hears when you stop and
// streams the reply's audio back; talking over it stops it. Talks only to this service.
"use strict";
const $ = (id) => document.getElementById(id);
let sessionId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
let recorder = null;
let chunks = [];

function headers(extra = {}) {
  const key = $("apikey").value.trim();
  return key ? { ...extra, "X-API-Key": key } : extra;
}

function setState(state, text) {
  const status = $("status");
  status.className = "status " + state;
  status.textContent = text;
  status.dataset.state = state;
}

function say(role, text) {
  const item = document.createElement("li");
  item.className = role;
  item.textContent = text;
  $("log").appendChild(item);
  item.scrollIntoView({ block: "end" });
}

function showStep(step) {
  const item = document.createElement("li");
  const args = JSON.stringify(step.args);
  const obs = JSON.stringify(step.observation);
  item.innerHTML = "<code></code> <span></span><br><small></small>";
  item.querySelector("code").textContent = step.action;
  item.querySelector("span").textContent = args;
  item.querySelector("small").textContent = "→ " + obs.slice(0, 240) + " (" + step.ms + " ms)";
  $("steps").appendChild(item);
}

function showCard(result) {
  const card = $("card");
  const labels = { pickup_location: "Pickup", destination: "Destination", date: "Date",
                   time: "Time", preferences: "Vehicle" };
  card.innerHTML = "<h3>Booking confirmed</h3><dl></dl>";
  for (const [key, value] of Object.entries(result)) {
    const dt = document.createElement("dt");
    dt.textContent = labels[key] || key;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = key;
    card.querySelector("dl").append(dt, dd);
  }
  card.hidden = false;
}

async function errorText(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (e) {
    return "HTTP " + response.status;
  }
}

async function speak(text) {
  try {
    const response = await fetch("/synthesize/", {
      method: "POST", headers: headers({ "Content-Type": "application/json", Accept: "audio/webm" }),
      body: JSON.stringify({ text }) });
    if (!response.ok) throw new Error(await errorText(response));
    const player = $("player");
    player.src = URL.createObjectURL(await response.blob());
    setState("speaking", "Speaking…");
    const ended = new Promise((done) => { player.onended = done; setTimeout(done, 20000); });
    let playing = true;
    await player.play().catch(() => { playing = false; });
    if (playing) await ended;
  } catch (e) {
    say("error", "Could not speak the reply: " + e.message);
  }
  setState("idle", "Ready");
}

async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      let event = "message", data = "";
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

function summaryOf(r) {
  return r.pickup_location ? `Your cab from ${r.pickup_location} to ${r.destination} is booked for ${r.date} at ${r.time}.` : "Done.";
}

async function send(query) {
  say("user", query);
  setState("thinking", "Thinking…");
  $("card").hidden = true;
  let reply = null;
  try {
    const response = await fetch("/chat/stream", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ session_id: sessionId, user_id: $("user").value.trim() || null, query }) });
    if (!response.ok) throw new Error(await errorText(response));
    await readEvents(response, (event, data) => {
      if (event === "step") showStep(data);
      else reply = { event, data };
    });
  } catch (e) {
    reply = { event: "error", data: { detail: e.message } };
  }
  if (!reply || reply.event === "error") {
    const detail = reply ? reply.data.detail : "The connection ended early.";
    say("error", detail);
    setState("error", "Error: " + detail);
    return;
  }
  if (reply.event === "question") {
    say("agent", reply.data.query);
    await speak(reply.data.query);
  } else {
    const r = reply.data.final_response;
    const summary = summaryOf(r);
    say("agent", summary);
    showCard(r);
    await speak(summary);
  }
}

async function transcribe(blob) {
  setState("thinking", "Transcribing…");
  const form = new FormData();
  form.append("audio", blob, "speech.webm");
  const response = await fetch("/transcribe/", { method: "POST", headers: headers(), body: form });
  if (!response.ok) throw new Error(await errorText(response));
  return (await response.json()).text;
}

async function toggleRecording() {
  const button = $("record");
  if (recorder && recorder.state === "recording") {
    recorder.stop();
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
    chunks = [];
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      button.setAttribute("aria-pressed", "false");
      button.textContent = "● Speak";
      try {
        const text = await transcribe(new Blob(chunks, { type: "audio/webm" }));
        if (!text) throw new Error("No speech was recognized.");
        await send(text);
      } catch (e) {
        say("error", e.message);
        setState("error", "Error: " + e.message);
      }
    };
    recorder.start(250);
    button.setAttribute("aria-pressed", "true");
    button.textContent = "■ Stop";
    setState("listening", "Listening… press Stop when done");
  } catch (e) {
    setState("error", "Microphone unavailable: " + e.message);
  }
}

// -- hands-free ------------------------------------------------------------------------------
// window.voiceStats lets tests (and the curious) see what the socket did.
window.voiceStats = { frames: 0, interrupted: 0, playing: 0, turns: 0 };
let live = null;  // { socket, stream, capture, player, sources, nextTime, rate }

function stopPlayback() {
  if (!live) return;
  for (const source of live.sources) { try { source.stop(); } catch (e) { /* ended */ } }
  live.sources = [];
  live.nextTime = 0;
  window.voiceStats.playing = 0;
}

function play(pcm) {
  // Each frame is scheduled right after the previous one: gapless, and stoppable at once.
  if (!live.player || live.player.sampleRate !== live.rate) {
    if (live.player) live.player.close();
    live.player = new AudioContext({ sampleRate: live.rate });
  }
  const samples = new Int16Array(pcm);
  const buffer = live.player.createBuffer(1, samples.length, live.rate);
  const channel = buffer.getChannelData(0);
  for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
  const source = live.player.createBufferSource();
  source.buffer = buffer;
  source.connect(live.player.destination);
  const at = Math.max(live.player.currentTime + 0.02, live.nextTime);
  source.start(at);
  live.nextTime = at + buffer.duration;
  live.sources.push(source);
  window.voiceStats.playing = live.sources.length;
  source.onended = () => {
    if (!live) return;
    live.sources = live.sources.filter((s) => s !== source);
    window.voiceStats.playing = live.sources.length;
    if (!live.sources.length && $("status").dataset.state === "speaking") {
      setState("listening", "Listening… just talk");
    }
  };
}

function onVoiceEvent(event) {
  switch (event.type) {
    case "ready": setState("listening", "Listening… just talk"); break;
    case "speech_started": setState("hearing", "Hearing you…"); break;
    case "speech_ended": setState("thinking", "Thinking…"); break;
    case "transcript": say("user", event.text); break;
    case "step": showStep(event); break;
    case "reply":
      window.voiceStats.turns += 1;
      sessionId = event.session_id;
      if (event.status_code === "201") say("agent", event.query);
      else { say("agent", summaryOf(event.final_response)); showCard(event.final_response); }
      break;
    case "audio_start":
      live.rate = Number(/rate=(\d+)/.exec(event.mime)[1]);
      setState("speaking", "Speaking… (talk to interrupt)");
      break;
    case "interrupted":
      window.voiceStats.interrupted += 1;
      stopPlayback();
      setState("hearing", "Hearing you…");
      break;
    case "error":
      say("error", event.detail);
      setState("error", "Error: " + event.detail);
      break;
    default: break;
  }
}

async function startHandsFree() {
  const button = $("handsfree");
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
  const capture = new AudioContext();
  await capture.audioWorklet.addModule("/static/capture.js");
  const node = new AudioWorkletNode(capture, "capture-16k");
  capture.createMediaStreamSource(stream).connect(node);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/voice/ws`);
  socket.binaryType = "arraybuffer";
  live = { socket, stream, capture, player: null, sources: [], nextTime: 0, rate: 24000 };
  socket.onopen = () => {
    const key = $("apikey").value.trim();
    socket.send(JSON.stringify({ type: "start", session_id: sessionId, sample_rate: 16000,
      user_id: $("user").value.trim() || undefined, api_key: key || undefined }));
  };
  node.port.onmessage = (e) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const frame = e.data;
    const pcm = new Int16Array(frame.length);
    for (let i = 0; i < frame.length; i++) {
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(frame[i] * 32767)));
    }
    socket.send(pcm.buffer);
    window.voiceStats.frames += 1;
  };
  socket.onmessage = (e) => {
    if (typeof e.data === "string") onVoiceEvent(JSON.parse(e.data));
    else play(e.data);
  };
  socket.onclose = () => { if (live && live.socket === socket) stopHandsFree(false); };
  button.setAttribute("aria-pressed", "true");
  button.textContent = "■ Stop hands-free";
}

function stopHandsFree(sendStop = true) {
  if (!live) return;
  const { socket, stream, capture, player } = live;
  stopPlayback();
  live = null;
  if (sendStop && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
  socket.close();
  stream.getTracks().forEach((t) => t.stop());
  capture.close();
  if (player) player.close();
  const button = $("handsfree");
  button.setAttribute("aria-pressed", "false");
  button.textContent = "🎙 Hands-free";
  if ($("status").dataset.state !== "error") setState("idle", "Ready");
}

$("handsfree").addEventListener("click", async () => {
  if (live) { stopHandsFree(); return; }
  try { await startHandsFree(); } catch (e) {
    setState("error", "Microphone unavailable: " + e.message);
  }
});
$("record").addEventListener("click", toggleRecording);
$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  send(text);
});
$("new").addEventListener("click", () => {
  sessionId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
  $("log").innerHTML = ""; $("steps").innerHTML = ""; $("card").hidden = true;
  setState("idle", "Ready");
});
