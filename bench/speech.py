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


if __name__ == "__main__":
    asyncio.run(main())
    asyncio.run(hands_free())
