// Browser voice client: record (MediaRecorder, webm/opus) -> /transcribe/ -> /chat/stream
// (steps shown as they stream) -> /synthesize/ (reply played back). Talks only to this service.
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
    const summary = r.pickup_location ? `Your cab from ${r.pickup_location} to ${r.destination} is booked for ${r.date} at ${r.time}.` : "Done.";
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
