"""End of utterance from voice activity (synthetic probabilities, one per 32 ms window), the
streaming Silero VAD on real speech and silence, and a voice socket whose client never reads."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import numpy as np
import pytest

from agent_session.speech.utterances import UtteranceDetector, UtteranceSettings
from agent_session.speech.vad import WINDOW, SileroModel, VadStream
from agent_session.voice import browser, pipeline
from agent_session.voice.browser import BrowserTransport
from agent_session.voice.pipeline import Call, VoicePipeline

from .conftest import make_settings
from .speech_samples import spoken_pcm


def play(detector: UtteranceDetector, probabilities: list[float]) -> list[tuple[int, str, int]]:
    """(window index, moment, samples of the utterance) for each moment."""
    moments = []
    for i, p in enumerate(probabilities):
        moment = detector.push(np.full(WINDOW, i, dtype=np.float32), p)
        if moment is not None:
            size = len(moment.audio) if moment.audio is not None else 0
            moments.append((i, moment.kind, size))
    return moments


def test_speech_starts_after_min_speech_and_ends_after_the_silence():
    detector = UtteranceDetector(UtteranceSettings(silence_ms=320, min_speech_ms=96,
                                                   pre_roll_ms=64))
    windows = [0.0] * 5 + [0.9] * 20 + [0.1] * 12
    said = (2 + 20) * WINDOW  # the pre-roll and the speech, not the trailing silence
    assert play(detector, windows) == [(7, "started", 0), (31, "paused", said),
                                       (34, "ended", said)]


def test_short_noise_and_short_pauses_change_nothing():
    detector = UtteranceDetector(UtteranceSettings(silence_ms=320, min_speech_ms=96))
    assert play(detector, [0.0, 0.9, 0.9, 0.0, 0.9, 0.0] * 5) == []  # never 3 in a row
    detector = UtteranceDetector(UtteranceSettings(silence_ms=320, min_speech_ms=96))
    pausing = [0.9] * 5 + [0.1] * 6 + [0.9] * 5 + [0.1] * 10
    assert [kind for _, kind, _ in play(detector, pausing)] == ["started", "paused", "ended"]


def test_an_utterance_past_max_seconds_is_too_long():
    detector = UtteranceDetector(UtteranceSettings(max_seconds=0.5, min_speech_ms=32))
    assert [kind for _, kind, _ in play(detector, [0.9] * 16)] == ["started", "too_long"]


@pytest.fixture(scope="module")
def model() -> SileroModel:
    return SileroModel()


def test_the_streaming_vad_hears_speech_and_not_silence(model):
    speech = spoken_pcm("Book a cab to the airport.").astype(np.float32) / 32768
    stream = VadStream(model)
    quiet = [p for _, p in stream.probabilities(np.zeros(16000, dtype=np.float32))]
    heard = []
    for at in range(0, len(speech), 333):  # frames that split windows
        heard += [p for _, p in stream.probabilities(speech[at:at + 333])]
    assert max(quiet) < 0.2
    assert len(heard) == len(speech) // WINDOW
    assert sum(p > 0.5 for p in heard) > 0.5 * len(heard)


async def stalled(*_: object) -> dict:
    """A socket operation that never completes (a silent client, a client not reading)."""
    await asyncio.sleep(3600)
    return {"type": "websocket.disconnect"}


def recording(sent: list[dict]):
    async def send_text(text: str) -> None:
        sent.append(json.loads(text))
    return send_text


class StalledSocket:
    """A browser socket that sends nothing and reads nothing (its sends never complete)."""

    headers: dict[str, str] = {}
    client = None

    def __init__(self, sent: list[dict]) -> None:
        self.sent = sent

    async def receive(self) -> dict:
        return await stalled()

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))
        if json.loads(text)["type"] not in ("ready", "error"):
            await stalled()

    async def send_bytes(self, data: bytes) -> None:
        await stalled()

    async def close(self) -> None:
        return None


class SilentVoice:
    sample_rate = 16000

    async def stream(self, text, voice):
        yield np.zeros(16000, dtype=np.float32)


async def test_a_client_that_never_reads_is_dropped(monkeypatch):
    """The greeting's audio cannot be sent: the call ends within the send deadline."""
    monkeypatch.setattr(pipeline, "SEND_TIMEOUT_SECONDS", 0.2)
    sent: list[dict] = []
    services = SimpleNamespace(settings=make_settings(), tracing=None,
                               speech=SimpleNamespace(tts=SilentVoice()),
                               vad_model=lambda: SileroModel())
    call = VoicePipeline(services, BrowserTransport(StalledSocket(sent), 16000),
                         Call(greeting="Hello."))
    await asyncio.wait_for(call.run(), 5)  # dropped: it returns, it does not hang
    assert [event["type"] for event in sent] == ["audio_start"]


async def test_a_socket_that_never_starts_is_refused(monkeypatch):
    monkeypatch.setattr(browser, "START_TIMEOUT_SECONDS", 0.1)
    sent: list[dict] = []
    services = SimpleNamespace(settings=make_settings(),
                               speech=SimpleNamespace(tts=SilentVoice()))
    await asyncio.wait_for(browser.browser_call(services, StalledSocket(sent)), 2)
    assert sent == [{"type": "error", "status": 408,
                     "detail": "No start message within 0.1 s."}]
