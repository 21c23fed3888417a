"""Speech for the voice tests: sentences spoken by the embedded voice (hibari), as the service's
16 kHz int16 PCM or as a WAV at the voice's own rate (a fake microphone's input)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from agent_session.speech.audio import decode, encode
from agent_session.speech.tts.local import LocalTextToSpeech


async def spoken_samples(parts: list[str | float]) -> tuple[np.ndarray, int]:
    """float32 samples and their rate: sentences, floats as seconds of silence between."""
    voice = LocalTextToSpeech()
    audio: list[np.ndarray] = []
    for part in parts:
        if isinstance(part, float):
            audio.append(np.zeros(int(voice.sample_rate * part), np.float32))
        else:
            audio += [chunk async for chunk in voice.stream(part, None)]
    await voice.close()
    return np.concatenate(audio), voice.sample_rate


def spoken_pcm(text: str) -> np.ndarray:
    """`text` spoken, resampled to 16 kHz mono int16 (call outside an event loop)."""
    samples, rate = asyncio.run(spoken_samples([text]))
    return decode(encode(samples, rate, "audio/wav"), max_seconds=60).pcm


async def spoken_wav(path: Path, parts: list[str | float]) -> None:
    samples, rate = await spoken_samples(parts)
    path.write_bytes(encode(samples, rate, "audio/wav"))  # noqa: ASYNC240
