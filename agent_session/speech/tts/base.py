"""What the speech routes ask of a text-to-speech engine: float32 mono samples, sentence by
sentence, so the encoded reply can start before the whole text is spoken."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import numpy as np


class TextToSpeech(Protocol):
    name: str
    sample_rate: int
    default_voice: str

    def voices(self) -> list[str] | None:
        """Voices this engine can use, or None when the service decides."""
        ...

    def stream(self, text: str, voice: str | None) -> AsyncIterator[np.ndarray]:
        """Samples in order, chunk by chunk. Raises SpeechUnavailable."""
        ...

    async def check(self) -> None: ...

    async def close(self) -> None: ...
