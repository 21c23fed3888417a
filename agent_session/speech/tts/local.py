"""Embedded text-to-speech: hibari-tts with the one voice its wheel carries ("heart", 24 kHz).
Other voices would download from a hub, so they are refused. Sentences are synthesized one by
one on a worker thread and handed on as soon as each is ready."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from ...worker import Worker
from ..stt.base import SpeechUnavailable

VOICE = "heart"


class LocalTextToSpeech:
    name = "local"
    sample_rate = 24_000
    default_voice = VOICE

    def __init__(self) -> None:
        self._worker = Worker("hibari")
        self._engine: Any = None
        self._lock = threading.Lock()

    def voices(self) -> list[str]:
        return [VOICE]

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None:
                try:
                    from hibari import Hibari

                    self._engine = Hibari(voice=VOICE)
                except (ImportError, OSError, RuntimeError) as exc:
                    raise SpeechUnavailable(f"The embedded voice could not load: {exc}") from None
            return self._engine

    def _phonemize(self, text: str) -> list[str]:
        """NFKC first: hibari's number reader takes every `isdigit()` character for a digit
        and crashes on "¹" or "٣"; compatibility forms turn them into ASCII digits. What it
        still cannot read is retried as plain ASCII rather than failing the request."""
        engine = self._load()
        text = unicodedata.normalize("NFKC", text)
        try:
            return engine.phonemize(text)
        except (ValueError, KeyError, IndexError):
            plain = "".join(ch if ch.isascii() and not ch.isdigit() else " " for ch in text)
            return engine.phonemize(plain) if plain.strip() else []

    def _synthesize(self, phonemes: str) -> np.ndarray:
        engine = self._load()
        return engine.from_ids(engine.ids(phonemes), 1.0, np.random.default_rng(0))

    async def stream(self, text: str, voice: str | None) -> AsyncIterator[np.ndarray]:
        for phonemes in await self._worker.run(self._phonemize, text):
            yield await self._worker.run(self._synthesize, phonemes)

    async def check(self) -> None:
        await self._worker.run(self._load)

    async def close(self) -> None:
        self._worker.close()
