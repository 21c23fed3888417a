"""Speech-to-text conformance (the embedded faster-whisper for real, Watson through its SDK
against the fake): words out of 16 kHz audio, silence is no error, readiness."""

from __future__ import annotations

import re

import numpy as np
import pytest

from agent_session.speech.audio import Clip

from ..speech_samples import spoken_pcm

SAID = "Book a cab to the airport."


@pytest.fixture(scope="module")
def spoken() -> Clip:
    """`SAID`, spoken by the embedded voice and resampled to 16 kHz mono."""
    return Clip(spoken_pcm(SAID))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


async def test_transcribes_what_was_said(stt, spoken):
    engine, heard = stt
    text = await engine.transcribe(spoken)
    assert isinstance(text, str)
    expected = words(heard or SAID)
    assert {"cab", "airport"} <= set(words(text)) and len(words(text)) <= len(expected) + 3


async def test_silence_is_text_not_an_error(stt):
    engine, _ = stt
    assert isinstance(await engine.transcribe(Clip(np.zeros(16000, dtype=np.int16))), str)


async def test_it_names_itself_and_is_ready(stt):
    engine, _ = stt
    assert engine.name
    await engine.check()
