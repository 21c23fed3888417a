"""Speech benchmark on the embedded engines: STT real-time factor including decoding (webm/opus
upload), TTS time to first encoded byte and speed relative to real time, per sentence length;
a `/voice` turn minus the LLM; and hands-free voice on `/voice/ws` (a real service process, the
instant echo model, a client streaming speech in real time): end of speech to the first reply
audio frame, and memory per idle socket.

    python bench/speech.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_session.speech.audio import decode, encode
from agent_session.speech.service import SpeechService
from agent_session.speech.stt.local import LocalSpeechToText
from agent_session.speech.tts.local import LocalTextToSpeech
from agent_session.tools.places.factory import place_vocabulary

TEXTS = {
    "short": "Where should the cab pick you up?",
    "medium": "I need a cab from MG Road to Koramangala tomorrow at nine in the morning.",
    "long": ("Your cab from Indiranagar to Kempegowda International Airport is booked for "
             "tomorrow at six thirty in the morning. A sedan will wait at the main gate. "
             "The driver will call you ten minutes before arrival."),
}


async def main() -> None:
    service = SpeechService(LocalSpeechToText(place_vocabulary()), LocalTextToSpeech(), 120)
    await service.stt.check()
    await service.tts.check()
    warm = await service.synthesize("Warm up.", None, "audio/webm")
    async for _ in warm:
        pass
    print(f"{'text':8s} {'audio s':>8s} {'tts first byte ms':>18s} {'tts x realtime':>15s} "
          f"{'stt ms':>8s} {'stt RTF':>8s}")
    for name, text in TEXTS.items():
        started = time.perf_counter()
        stream = await service.synthesize(text, None, "audio/webm")
        first_byte = None
        chunks = []
        async for chunk in stream:
            if first_byte is None and chunk:
                first_byte = time.perf_counter() - started
            chunks.append(chunk)
        synth_seconds = time.perf_counter() - started
        webm = b"".join(chunks)
        audio_seconds = decode(webm, 600).seconds
        upload = encode(decode(webm, 600).floats, 16000, "audio/webm")
        started = time.perf_counter()
        await service.transcribe(upload)
        stt_seconds = time.perf_counter() - started
        print(f"{name:8s} {audio_seconds:8.2f} {first_byte * 1000:18.0f} "
              f"{audio_seconds / synth_seconds:15.1f} {stt_seconds * 1000:8.0f} "
              f"{stt_seconds / audio_seconds:8.3f}")
    await voice_turn(service)
    await service.stt.close()
    await service.tts.close()


async def voice_turn(service: SpeechService) -> None:
    """A /voice turn minus the LLM for a ~4 s utterance: the echo model answers instantly, so
    the figure is decoding + STT + the turn's bookkeeping + TTS of the question + encoding."""
    import httpx

    from agent_session.config import Settings
    from agent_session.main import create_app
    from agent_session.services import Overrides

    text = "I need a cab from MG Road to Koramangala tomorrow at nine."
    chunks = [c async for c in await service.synthesize(text, None, "audio/webm")]
    upload = b"".join(chunks)
    seconds = decode(upload, 600).seconds
    app = create_app(Settings(llm_backend="echo", log_file="", log_level="WARNING"),
                     Overrides(stt=service.stt, tts=service.tts))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            runs = []
            for i in range(4):
                started = time.perf_counter()
                response = await client.post("/voice", files={"audio": ("q.webm", upload)},
                                             data={"session_id": f"voice-{i}"})
                total = time.perf_counter() - started
                runs.append(total - response.json()["timings"]["agent_ms"] / 1000)
    runs.sort()
    print(f"/voice turn minus the LLM, {seconds:.1f} s utterance: median "
          f"{runs[len(runs) // 2]:.2f} s (goal <= 1.0 s)")


UTTERANCES = ["I need a cab from MG Road to Koramangala.",
              "Pick me up from the airport tomorrow morning.",
              "Book a sedan to Indiranagar at nine.",
              "I want to go home from the office.",
              "Take me to the railway station at six thirty."]


async def stream_pcm(ws, data: bytes, started: float, rate: int, frame: int) -> None:
    """`data` (16-bit PCM) sent in real time from `started`, `frame` samples a message."""
    for at in range(0, len(data), frame * 2):
        await ws.send(data[at:at + frame * 2])
        due = started + (at + frame * 2) / 2 / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))


async def barge_in(url: str, first, second) -> float:
    """Seconds from the first loud sample of `second`, spoken over the reply to `first`, to the
    `interrupted` event."""
    import json

    import numpy as np
    from websockets.asyncio.client import connect

    rate, frame = 16000, 320
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": rate}))
        await ws.recv()
        pad = np.zeros(rate, np.int16)
        sender = asyncio.create_task(stream_pcm(
            ws, np.concatenate([first, pad]).astype("<i2").tobytes(), time.monotonic(), rate,
            frame))
        async for message in ws:
            if isinstance(message, str) and json.loads(message)["type"] == "audio_start":
                break
        await sender
        onset = np.flatnonzero(np.abs(second) > 500)[0] / rate
        started = time.monotonic()
        sender = asyncio.create_task(stream_pcm(
            ws, np.concatenate([second, pad]).astype("<i2").tobytes(), started, rate, frame))
        async for message in ws:
            if isinstance(message, str) and json.loads(message)["type"] == "interrupted":
                interrupted = time.monotonic()
                break
        sender.cancel()
        return interrupted - (started + onset)


async def hands_free() -> None:
    """End of speech -> first reply audio frame on /voice/ws, median of the utterances; and the
    service's memory per idle socket (RSS growth over 200 sockets that sent `start`)."""
    import json

    import numpy as np
    from websockets.asyncio.client import connect

    from tests.service_process import ServiceProcess
    from tests.speech_samples import spoken_samples

    clips = []
    for text in UTTERANCES:
        samples, voice_rate = await spoken_samples([text])
        clips.append(decode(encode(samples, voice_rate, "audio/wav"), 60).pcm)
    service = ServiceProcess(LOG_LEVEL="WARNING").start()
    url = service.url.replace("http://", "ws://") + "/voice/ws"
    rate, frame = 16000, 320
    latencies = []
    try:
        async with connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": rate}))
            assert json.loads(await ws.recv())["type"] == "ready"
            for clip in [clips[0], *clips]:  # the first one warms the engines up, unmeasured
                loud = np.flatnonzero(np.abs(clip) > 500)
                pcm = np.concatenate([clip, np.zeros(rate * 2, np.int16)]).astype("<i2")
                data = pcm.tobytes()
                started = time.monotonic()
                speech_ends = started + loud[-1] / rate
                first_audio = None

                sender = asyncio.create_task(stream_pcm(ws, data, started, rate, frame))
                async for message in ws:
                    if isinstance(message, bytes) and first_audio is None:
                        first_audio = time.monotonic()
                    elif isinstance(message, str) and json.loads(message)["type"] == "audio_end":
                        break
                await sender
                latencies.append(first_audio - speech_ends)
        measured = sorted(latencies[1:])
        print(f"/voice/ws end of speech -> first reply audio, echo model, "
              f"VAD_SILENCE_MS=600 (default): median {measured[len(measured) // 2]:.2f} s "
              f"(min {measured[0]:.2f}, max {measured[-1]:.2f}, {len(measured)} utterances; "
              "goal <= 1.0 s)")
        barge = sorted([await barge_in(url, clips[i], clips[i + 1]) for i in range(3)])
        print(f"/voice/ws barge-in: start of speech over the reply -> interrupted: median "
              f"{barge[1] * 1000:.0f} ms (min {barge[0] * 1000:.0f}, max {barge[2] * 1000:.0f}; "
              "VAD_MIN_SPEECH_MS=250 of it is the speech that must come first)")

        def rss() -> int:
            status = Path(f"/proc/{service.process.pid}/status").read_text()
            return int(next(line.split()[1] for line in status.splitlines()
                            if line.startswith("VmRSS"))) * 1024

        before = rss()
        sockets = []
        for _ in range(200):
            ws = await connect(url)
            await ws.send(json.dumps({"type": "start", "sample_rate": rate}))
            await ws.recv()
            sockets.append(ws)
        await asyncio.sleep(0.5)
        grown = rss() - before
        for ws in sockets:
            await ws.close()
        print(f"/voice/ws memory per idle socket: {grown / 200 / 1024:.1f} KiB "
              f"(200 sockets that sent start: RSS +{grown / 2**20:.1f} MiB)")
    finally:
        service.stop()


BOOKING = ["I need a cab from MG Road to Koramangala.", "Tomorrow.",
           "At nine in the morning.", "A sedan please."]


async def call_latency(model: str, transport: str, service, clips) -> tuple[list, list, float]:
    """One call playing `BOOKING` on the cab agent: per utterance, end of speech -> the first
    reply audio and -> the answer's audio (after the acknowledgement, when one was said);
    and the greeting's first audio after the stream's start (phones)."""
    import json
    import xml.etree.ElementTree as ET

    import httpx
    import numpy as np
    from twilio.request_validator import RequestValidator
    from websockets.asyncio.client import connect

    from tests.fakes.carrier import CarrierClient

    firsts, answers = [], []
    greeting = float("nan")
    if transport == "browser":
        url = service.url.replace("http://", "ws://") + "/voice/ws"
        async with connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            assert json.loads(await ws.recv())["type"] == "ready"
            for clip in clips:
                loud = np.flatnonzero(np.abs(clip) > 500)
                data = np.concatenate([clip, np.zeros(16000 * 3, np.int16)]).astype("<i2")
                started = time.monotonic()
                ends = started + loud[-1] / 16000
                sender = asyncio.create_task(stream_pcm(ws, data.tobytes(), started, 16000, 320))
                first = reply = answer = None
                async for message in ws:
                    now = time.monotonic()
                    if isinstance(message, bytes):
                        first = first or now
                        if reply is not None and answer is None:
                            answer = now
                    else:
                        kind = json.loads(message)["type"]
                        if kind == "reply":
                            reply = now
                        elif kind == "audio_end" and answer is not None:
                            break
                await sender
                firsts.append(first - ends)
                answers.append(answer - ends)
        return firsts, answers, greeting
    sid = f"CA{model}{transport}{time.monotonic_ns()}"
    if transport == "twilio":
        hook = f"{service.url}/telephony/twilio/voice"
        form = {"CallSid": sid, "From": "+14155550100"}
        answer = httpx.post(hook, data=form, headers={"X-Twilio-Signature": RequestValidator(
            "bench-token").compute_signature(hook, form)})
        stream = ET.fromstring(answer.text).find("./Connect/Stream")
        client = CarrierClient(stream.get("url"))
        params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    else:
        client = CarrierClient(service.url.replace("http://", "ws://")
                               + "/telephony/exotel/stream", kind="exotel")
        params = {}
    async with client:
        started = time.monotonic()
        await client.start(sid, parameters=params, caller="09876543210")
        await client.wait_for(lambda: any(i.event == "media" for i in client.log))
        greeting = next(i.at for i in client.log if i.event == "media") - started
        await client.quiet()
        for clip in clips:
            loud = np.flatnonzero(np.abs(clip) > 500)
            mark = len(client.log)
            began = time.monotonic()
            await client.speak(clip)
            ends = began + loud[-1] / 16000
            silence = asyncio.create_task(client.silence(3.0))
            await client.wait_for(lambda m=mark, e=ends: any(i.event == "media" and i.at > e
                                                             for i in client.log[m:]))
            await silence
            await client.quiet(1.0)
            media = [i for i in client.log[mark:] if i.event == "media" and i.at > ends]
            firsts.append(media[0].at - ends)
            gaps = [b.at - a.at for a, b in zip(media, media[1:], strict=False)]
            # The answer after an acknowledgement comes after a gap in the audio.
            cut = next((k + 1 for k, gap in enumerate(gaps) if gap > 0.3), None)
            answers.append((media[cut].at if cut is not None else media[0].at) - ends)
        await client.stop()
    return firsts, answers, greeting


async def phone_calls() -> None:
    """End of speech -> first reply audio per transport (browser socket, Twilio, Exotel) on the
    embedded model and on the echo model, and the greeting's latency."""
    import statistics

    from tests.service_process import ServiceProcess
    from tests.speech_samples import spoken_samples

    clips = []
    for text in BOOKING:
        samples, voice_rate = await spoken_samples([text])
        clips.append(decode(encode(samples, voice_rate, "audio/wav"), 60).pcm)
    print("Voice calls, the cab agent, the caller's four utterances of a booking, end of speech "
          "-> first reply audio (an acknowledgement when the turn takes longer than 0.35 s) "
          "and -> the answer's audio; median (max); VAD_SILENCE_MS=600 (default)")
    for model in ("echo", "local"):
        service = ServiceProcess(LLM_BACKEND=model, TWILIO_AUTH_TOKEN="bench-token",
                                 LOG_LEVEL="WARNING").start()
        try:
            import httpx

            for _ in range(300):  # the embedded model reads its prompt once at start-up
                if httpx.get(f"{service.url}/ready", timeout=5).status_code == 200:
                    break
                await asyncio.sleep(1)
            await call_latency(model, "browser", service, clips[:1])  # warm-up, unmeasured
            for transport in ("browser", "twilio", "exotel"):
                firsts, answers, greeting = await call_latency(model, transport, service, clips)
                print(f"   {model:5s} {transport:7s} first audio {statistics.median(firsts):.2f} s"
                      f" ({max(firsts):.2f}), answer {statistics.median(answers):.2f} s "
                      f"({max(answers):.2f})"
                      + (f", greeting {greeting:.2f} s" if greeting == greeting else ""))
        finally:
            service.stop()


if __name__ == "__main__":
    if "--calls" in sys.argv:
        asyncio.run(phone_calls())
        raise SystemExit(0)
    asyncio.run(main())
    asyncio.run(hands_free())
    asyncio.run(phone_calls())
