"""`GET /voice/ws` on a real service process, with a WebSocket client streaming synthesized speech
in real time: a hands-free turn, barge-in, keys and owners, bad input and bounds."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect

from .service_process import ServiceProcess
from .speech_samples import spoken_pcm

RATE = 16_000
FRAME = 320  # 20 ms


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    """Sentences spoken by the embedded voice, as 16 kHz int16 PCM."""
    texts = {"cab": "I need a cab from MG Road to Koramangala.",
             "stop": "Wait, I want to change the pickup place please."}
    return {name: spoken_pcm(text) for name, text in texts.items()}


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    process = ServiceProcess(API_KEYS="voice-key", VAD_SILENCE_MS="500",
                             MAX_AUDIO_SECONDS="6").start()
    try:
        yield process
    finally:
        process.stop()


def ws_url(service: ServiceProcess) -> str:
    return service.url.replace("http://", "ws://") + "/voice/ws"


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


async def stream(ws, pcm: np.ndarray, frame_bytes: int = FRAME * 2) -> None:
    """`pcm` sent in real time, in frames of `frame_bytes` (odd sizes split samples)."""
    data = pcm.astype("<i2").tobytes()
    started = time.monotonic()
    for at in range(0, len(data), frame_bytes):
        await ws.send(data[at:at + frame_bytes])
        due = started + (at + frame_bytes) / 2 / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))


class Log:
    """Everything the server sent, in order, with arrival times: events by type, audio frames
    as "audio"."""

    def __init__(self) -> None:
        self.items: list[tuple[float, str, object]] = []

    def kinds(self) -> list[str]:
        squeezed: list[str] = []
        for _, kind, _ in self.items:
            if not (kind == "audio" and squeezed and squeezed[-1] == "audio"):
                squeezed.append(kind)
        return squeezed

    def first(self, kind: str) -> tuple[float, object]:
        return next((at, data) for at, k, data in self.items if k == kind)


async def read_into(ws, log: Log) -> None:
    async for message in ws:
        if isinstance(message, bytes):
            log.items.append((time.monotonic(), "audio", len(message)))
        else:
            event = json.loads(message)
            log.items.append((time.monotonic(), event["type"], event))


async def wait_for(log: Log, kind: str, within: float = 20.0) -> object:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for _, k, data in log.items:
            if k == kind:
                return data
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind!r} within {within} s: {log.kinds()}")


async def stored_session(service: ServiceProcess, session_id: str) -> dict:
    async with httpx.AsyncClient(headers={"x-api-key": "voice-key"}) as client:
        return (await client.get(f"{service.url}/session/{session_id}")).json()


async def start(ws, **fields) -> None:
    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "api_key": "voice-key",
                              **fields}))


async def test_a_hands_free_turn(service, speech):
    log = Log()
    async with connect(ws_url(service)) as ws:
        reader = asyncio.create_task(read_into(ws, log))
        await start(ws, session_id="hands-free-1", user_id="12345")
        await wait_for(log, "ready")
        await stream(ws, silence(0.5))
        await stream(ws, speech["cab"], frame_bytes=321)  # odd frames: samples split
        spoken_until = time.monotonic()
        await stream(ws, silence(1.2))
        await wait_for(log, "audio_end")
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reader, 10)
    kinds = log.kinds()
    assert kinds[:8] == ["ready", "speech_started", "speech_ended", "transcript", "reply",
                         "audio_start", "audio", "audio_end"], kinds
    transcript = log.first("transcript")[1]["text"].lower()
    assert "cab" in transcript and "koramangala" in transcript
    reply = log.first("reply")[1]
    assert reply["session_id"] == "hands-free-1" and reply["status_code"] == "201"
    assert reply["query"].startswith("You said:")
    assert log.first("audio_start")[1]["mime"] == "audio/pcm;rate=24000"
    audio_bytes = sum(size for _, kind, size in log.items if kind == "audio")
    assert audio_bytes / 2 / 24000 > 1.0  # the spoken reply, seconds of it
    assert log.first("audio")[0] > spoken_until  # latency: bench/speech.py measures it
    stored = await stored_session(service, "hands-free-1")
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == [
        log.first("transcript")[1]["text"]]


async def test_barge_in_stops_the_reply_and_starts_the_next_turn(service, speech):
    log = Log()
    async with connect(ws_url(service)) as ws:
        reader = asyncio.create_task(read_into(ws, log))
        await start(ws, session_id="barge-1")
        await wait_for(log, "ready")
        await stream(ws, speech["cab"])
        await stream(ws, silence(0.6))
        await wait_for(log, "audio_start")
        await stream(ws, silence(0.3))  # some of the reply plays...
        await stream(ws, speech["stop"])  # ...and the user talks over it, in real time
        talked_until = time.monotonic()
        await wait_for(log, "interrupted")
        interrupted_at, _ = log.first("interrupted")
        await stream(ws, silence(1.2))
        await wait_for(log, "audio_end")
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reader, 10)
    assert interrupted_at < talked_until  # stopped while the user was still talking
    after = [kind for at, kind, _ in log.items if at >= interrupted_at]
    # No more of the old reply: the next audio comes only after the next turn's audio_start.
    assert "audio" in after and after.index("audio_start") < after.index("audio"), after
    transcripts = [data["text"].lower() for _, kind, data in log.items if kind == "transcript"]
    assert len(transcripts) == 2 and ("pickup" in transcripts[1] or "change" in transcripts[1])
    stored = await stored_session(service, "barge-1")
    users = [m["content"] for m in stored["messages"] if m["role"] == "user"]
    assert len(users) == 2  # the interrupted reply's turn was kept as it was answered


async def error_of(ws) -> dict:
    async for message in ws:
        if isinstance(message, str) and json.loads(message)["type"] == "error":
            return json.loads(message)
    raise AssertionError("the server closed without an error event")


async def test_keys_and_owners(service):
    async with connect(ws_url(service)) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        assert (await error_of(ws))["status"] == 401
    async with connect(ws_url(service), additional_headers={"x-api-key": "voice-key"}) as ws:
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        assert json.loads(await ws.recv())["type"] == "ready"
    async with httpx.AsyncClient(headers={"x-api-key": "voice-key"}) as client:
        owned = await client.post(f"{service.url}/chat", json={
            "session_id": "owned-voice", "user_id": "u1", "query": "hi"})
    assert owned.status_code == 200
    async with connect(ws_url(service)) as ws:
        await start(ws, session_id="owned-voice", user_id="u2")
        assert (await error_of(ws))["status"] == 403
    async with connect(ws_url(service)) as ws:  # an agent the service does not run
        await start(ws, agent="nope")
        error = await error_of(ws)
        assert error["status"] == 404 and "cab-booking" in error["detail"]
    async with connect(ws_url(service)) as ws:  # the session belongs to the cab agent
        await start(ws, session_id="owned-voice", user_id="u1", agent="other-agent")
        assert (await error_of(ws))["status"] == 404
    async with connect(ws_url(service)) as ws:
        await start(ws, session_id="owned-voice", user_id="u1", agent="cab-booking")
        assert json.loads(await ws.recv())["type"] == "ready"


@pytest.mark.parametrize("first, status", [
    (b"\x00\x01" * 100, 400),  # audio before start
    ("not json", 422),
    (json.dumps({"type": "start", "sample_rate": 96000, "api_key": "voice-key"}), 422),
])
async def test_garbage_before_start_is_an_error_then_the_close(service, first, status):
    async with connect(ws_url(service)) as ws:
        await ws.send(first)
        error = await error_of(ws)
        assert error["status"] == status and error["detail"]
        await asyncio.wait_for(ws.wait_closed(), 5)


async def test_an_utterance_over_the_limit_and_an_oversized_frame(service, speech):
    async with connect(ws_url(service)) as ws:
        await start(ws)
        assert json.loads(await ws.recv())["type"] == "ready"
        loud = np.flatnonzero(np.abs(speech["cab"]) > 500)
        said = speech["cab"][loud[0]:loud[-1]]  # the sentence without its silences
        long_speech = np.concatenate([said] * 4)  # one utterance over MAX_AUDIO_SECONDS=6
        sender = asyncio.create_task(stream(ws, long_speech, frame_bytes=32000))
        error = await asyncio.wait_for(error_of(ws), 30)
        sender.cancel()
        assert error["status"] == 413 and "MAX_AUDIO_SECONDS" in error["detail"]
    async with connect(ws_url(service)) as ws:
        await start(ws)
        assert json.loads(await ws.recv())["type"] == "ready"
        await ws.send(b"\x00" * (256 * 1024 + 2))
        assert (await error_of(ws))["status"] == 413


async def test_noise_alone_starts_no_turn(service):
    log = Log()
    async with connect(ws_url(service)) as ws:
        reader = asyncio.create_task(read_into(ws, log))
        await start(ws)
        await wait_for(log, "ready")
        noise = (np.random.default_rng(1).normal(0, 300, RATE * 2)).astype(np.int16)
        await stream(ws, noise, frame_bytes=3200)
        await asyncio.sleep(0.8)
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reader, 10)
    assert log.kinds() == ["ready"]


async def test_another_sample_rate_is_resampled(service, speech):
    """A client capturing at 48 kHz says so in `start`; the server hears it all the same."""
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    frame = av.AudioFrame.from_ndarray(speech["cab"].reshape(1, -1), format="s16",
                                       layout="mono")
    frame.sample_rate = RATE
    high = np.concatenate([out.to_ndarray()[0] for out in
                           [*resampler.resample(frame), *resampler.resample(None)]])
    log = Log()
    async with connect(ws_url(service)) as ws:
        reader = asyncio.create_task(read_into(ws, log))
        await start(ws, sample_rate=48000)
        await wait_for(log, "ready")
        data = np.concatenate([high, np.zeros(48000 * 2, np.int16)]).astype("<i2").tobytes()
        started = time.monotonic()
        for at in range(0, len(data), 1920):  # 20 ms at 48 kHz, in real time
            await ws.send(data[at:at + 1920])
            await asyncio.sleep(max(0.0, started + (at + 1920) / 96000 - time.monotonic()))
        transcript = await wait_for(log, "transcript")
        await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reader, 20)
    assert "koramangala" in transcript["text"].lower()
