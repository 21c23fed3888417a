"""Watson Text to Speech through the real SDK. The reply is asked for as WAV and re-encoded by
our own encoder, so every Accept format works the same on every engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from ..audio import AudioError, decode
from ..stt.base import SpeechUnavailable
from ..watson import configure, describe


class WatsonTextToSpeech:
    name = "watson"
    sample_rate = 16_000

    def __init__(self, api_key: str, url: str, auth_url: str | None, verify: str, voice: str,
                 timeout: float = 30.0) -> None:
        from ibm_watson import TextToSpeechV1

        self._service: Any = configure(TextToSpeechV1, api_key, url, auth_url, verify, timeout)
        self.default_voice = voice

    def voices(self) -> None:
        return None

    def _run(self, text: str, voice: str) -> bytes:
        return self._service.synthesize(text=text, voice=voice,
                                        accept="audio/wav").get_result().content

    async def stream(self, text: str, voice: str | None) -> AsyncIterator[np.ndarray]:
        try:
            wav = await asyncio.to_thread(self._run, text, voice or self.default_voice)
        except Exception as exc:  # every SDK failure is a 503 with a reason
            raise describe(exc, "Text to Speech") from None
        try:
            clip = decode(wav, max_seconds=3600)
        except AudioError:
            raise SpeechUnavailable("Watson Text to Speech returned audio that could not be "
                                    "decoded.") from None
        yield clip.floats

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
