"""Text-to-speech conformance (the embedded hibari voice for real, Watson through its SDK against
the fake): float32 mono samples in order at the engine's rate, its voices, readiness."""

from __future__ import annotations

import numpy as np


async def test_streams_float_samples_of_the_text(tts):
    chunks = [chunk async for chunk in tts.stream("Hello there. Where should the cab pick you "
                                                  "up from?", None)]
    assert chunks
    for chunk in chunks:
        assert isinstance(chunk, np.ndarray) and chunk.ndim == 1 and chunk.dtype == np.float32
        assert np.abs(chunk).max() <= 1.0
    seconds = sum(len(chunk) for chunk in chunks) / tts.sample_rate
    assert 1.0 < seconds < 20


async def test_voices_include_the_default(tts):
    voices = tts.voices()
    assert isinstance(tts.default_voice, str) and tts.default_voice
    assert voices is None or tts.default_voice in voices


async def test_it_names_itself_and_is_ready(tts):
    assert tts.name and tts.sample_rate > 0
    await tts.check()
