// Browser voice client for any agent the service runs (GET /agents fills the picker; the chosen
// agent goes in every turn). Push to talk: record (MediaRecorder, webm/opus) -> /transcribe/ ->
// /chat/stream (steps shown as they stream) -> /synthesize/ (reply played back). Hands-free: the
// microphone streams to /voice/ws (AudioWorklet, 16 kHz PCM), the server hears when you stop and
// streams the reply's audio back; talking over it stops it. Talks only to this service.
"use strict";
const $ = (id) => document.getElementById(id);
const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
let sessionId = newId();
let recorder = null;
let chunks = [];
let agents = [];   // GET /agents
let agent = null;  // the chosen agent (null: the service's default, when /agents failed)

// Icons are inline SVG: no emoji or symbol font needed.
const ICONS = {
  dot: '<circle cx="8" cy="8" r="5" fill="currentColor"/>',
  stop: '<rect x="3" y="3" width="10" height="10" rx="1" fill="currentColor"/>',
  mic: '<rect x="5.5" y="1.5" width="5" height="8" rx="2.5" fill="currentColor"/>' +
       '<path d="M3.5 7.5a4.5 4.5 0 0 0 9 0M8 12v2.5M5.5 14.5h5" fill="none" ' +
       'stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/>',
};
const TAGS = { confirm: "Please confirm", handoff: "Handed off to a person",
               cancelled: "Cancelled" };

function setButton(button, icon, label) {
  button.innerHTML = '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true">' +
                     ICONS[icon] + "</svg><span></span>";
  button.querySelector("span").textContent = label;
}

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

function say(role, text, outcome) {
  const item = document.createElement("li");
  item.className = role;
  if (outcome) {
    item.dataset.outcome = outcome;
    item.classList.add(outcome);
  }
  if (TAGS[outcome]) {
    const tag = document.createElement("strong");
    tag.className = "tag";
    tag.textContent = TAGS[outcome];
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(tag, body);
  } else {
    item.textContent = text;
  }
  $("log").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function offerAnswers(item, answers) {
  // Quick replies under a confirmation; they go once anything else is said.
  const box = document.createElement("span");
  box.className = "answers";
  for (const answer of answers) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = answer;
    button.addEventListener("click", () => send(answer.toLowerCase()));
    box.appendChild(button);
  }
  item.appendChild(box);
}

function showStep(step) {
  const item = document.createElement("li");
  const args = JSON.stringify(step.args);
  const obs = JSON.stringify(step.observation) || "";
  item.innerHTML = '<code></code> <span class="args"></span><br>' +
                   '<small><span class="observation"></span> <span class="ms"></span></small>';
  item.querySelector("code").textContent = step.action;
  item.querySelector(".args").textContent = args;
  item.querySelector(".observation").textContent = "\u2192 " + obs.slice(0, 240);
  if (typeof step.ms === "number") {  // the step's own time, not the model call's
    item.dataset.ms = String(step.ms);
    item.querySelector(".ms").textContent = "(" + step.ms + " ms)";
  }
  $("steps").appendChild(item);
}

// -- agents ----------------------------------------------------------------------------------
function agentNamed(name) {
  return agents.find((a) => a.name === name) || agent;
}

function fieldLabel(of, key) {
  // The result schema's own words for a field: its title, else its description, else the name.
  const schema = of && of.result_schema;
  const property = schema && schema.properties && schema.properties[key];
  for (const text of [property && property.title, property && property.description]) {
    if (typeof text === "string" && text.trim()) return text.trim();
  }
  return key.replace(/_/g, " ");
}

function shown(value) {
  if (value === null || value === undefined) return "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function showAgent() {
  const name = agent ? agent.name : "Agent Session Service";
  $("agent-name").textContent = name;
  $("agent-description").textContent = agent ? agent.description || "" : "";
  document.title = agent ? name + " - Agent Session Service" : name;
  document.body.dataset.agent = agent ? agent.name : "";
}

async function loadAgents() {
  let listed = [];
  try {
    const response = await fetch("/agents", { headers: headers() });
    if (response.ok) listed = (await response.json()).agents || [];
  } catch (e) { /* offline or refused: the service's default agent answers */ }
  agents = listed;
  const select = $("agent");
  select.replaceChildren(...agents.map((a) => {
    const option = new Option(a.name, a.name);
    option.title = a.description || "";
    return option;
  }));
  const asked = new URLSearchParams(location.search).get("agent");
  const chosen = agents.find((a) => a.name === (agent && agent.name)) ||
                 agents.find((a) => a.name === asked) || agents[0] || null;
  const single = agents.length < 2;
  $("agent-picker").hidden = single;
  select.disabled = single;
  if (chosen) select.value = chosen.name;
  if (agent && chosen && chosen.name !== agent.name) {
    chooseAgent(chosen.name);
  } else {
    agent = chosen;
    showAgent();
  }
  document.body.dataset.agents = String(agents.length);  // loaded: tests wait for it
}

function chooseAgent(name) {
  const chosen = agents.find((a) => a.name === name);
  if (!chosen || chosen === agent) return;
  if (live) stopHandsFree();
  if (recorder && recorder.state === "recording") recorder.stop();
  agent = chosen;
  showAgent();
  newSession();  // a session belongs to one agent
  const url = new URL(location.href);
  url.searchParams.set("agent", chosen.name);
  history.replaceState(null, "", url);
}

function newSession() {
  sessionId = newId();
  $("log").innerHTML = "";
  $("steps").innerHTML = "";
  $("card").hidden = true;
  setState("idle", "Ready");
}

function showCard(result, of) {
  const card = $("card");
  card.innerHTML = "<h3>Done</h3><dl></dl>";
  for (const [key, value] of Object.entries(result)) {
    const dt = document.createElement("dt");
    dt.textContent = fieldLabel(of, key);
    dt.title = key;
    const dd = document.createElement("dd");
    dd.textContent = shown(value);
    dd.dataset.field = key;
    card.querySelector("dl").append(dt, dd);
  }
  card.hidden = false;
}

function resultSpeech(result, of) {
  const said = Object.entries(result).filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => fieldLabel(of, k).replace(/[?.!:]+$/, "") + ": " + shown(v));
  return ["Done.", ...said].join(" ");
}

function showReply(reply) {
  // One reply (a /chat body): a question, a confirmation, a hand-off, ... or the result.
  // Returns what to say aloud.
  const of = agentNamed(reply.agent);
  const outcome = reply.outcome || (reply.status_code === "200" ? "final" : "question");
  if (outcome === "final") {
    const result = reply.final_response || {};
    say("agent", "Done.", "final");
    showCard(result, of);
    return resultSpeech(result, of);
  }
  const item = say("agent", reply.query, outcome);
  if (reply.asking) item.dataset.asking = reply.asking;
  if (outcome === "confirm") offerAnswers(item, ["Yes", "No"]);
  return reply.query;
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

async function send(query) {
  document.querySelectorAll("#log .answers").forEach((box) => box.remove());
  say("user", query);
  setState("thinking", "Thinking…");
  $("card").hidden = true;
  let reply = null;
  try {
    const response = await fetch("/chat/stream", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ session_id: sessionId, user_id: $("user").value.trim() || null,
                             query, agent: agent ? agent.name : undefined }) });
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
  await speak(showReply(reply.data));
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
    const session = sessionId;
    recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
    chunks = [];
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      button.setAttribute("aria-pressed", "false");
      setButton(button, "dot", "Speak");
      if (session !== sessionId) return;  // the agent or session changed while recording
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
    setButton(button, "stop", "Stop");
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
    case "transcript":
      document.querySelectorAll("#log .answers").forEach((box) => box.remove());
      say("user", event.text);
      break;
    case "step": showStep(event); break;
    case "reply":
      window.voiceStats.turns += 1;
      sessionId = event.session_id;
      showReply(event);  // the server speaks it
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
      user_id: $("user").value.trim() || undefined, api_key: key || undefined,
      agent: agent ? agent.name : undefined }));
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
    if (!live || live.socket !== socket) return;
    if (typeof e.data === "string") onVoiceEvent(JSON.parse(e.data));
    else play(e.data);
  };
  socket.onclose = () => { if (live && live.socket === socket) stopHandsFree(false); };
  button.setAttribute("aria-pressed", "true");
  setButton(button, "stop", "Stop hands-free");
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
  setButton(button, "mic", "Hands-free");
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
  if (live) stopHandsFree();
  newSession();
});
$("agent").addEventListener("change", (e) => chooseAgent(e.target.value));
$("apikey").addEventListener("change", loadAgents);  // a key may be what /agents needed
loadAgents();
