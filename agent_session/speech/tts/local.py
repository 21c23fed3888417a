"""Embedded text-to-speech: hibari-tts with the one voice its wheel carries ("heart", 24 kHz).
Other voices would download from a hub, so they are refused. Sentences are synthesized one by
one on a worker thread and handed on as soon as each is ready."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..stt.base import SpeechUnavailable

VOICE = "heart"


class LocalTextToSpeech:
    name = "local"
    sample_rate = 24_000
    default_voice = VOICE

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
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
        return self._load().phonemize(text)

    def _synthesize(self, phonemes: str) -> np.ndarray:
        engine = self._load()
        return engine.from_ids(engine.ids(phonemes), 1.0, np.random.default_rng(0))

    async def stream(self, text: str, voice: str | None) -> AsyncIterator[np.ndarray]:
        loop = asyncio.get_running_loop()
        for phonemes in await loop.run_in_executor(self._pool(), self._phonemize, text):
            yield await loop.run_in_executor(self._pool(), self._synthesize, phonemes)

    async def check(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool(), self._load)

    def _pool(self) -> ThreadPoolExecutor:
        """One worker thread, made on first use (again after close: the engine stays loaded)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hibari")
        return self._executor

    async def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
