"""What the speech routes ask of a speech-to-text engine."""

from __future__ import annotations

from typing import Protocol

from ...errors import ServiceError
from ..audio import Clip


class SpeechUnavailable(ServiceError):
    """The speech engine cannot serve (not installed, unreachable, credentials rejected)."""

    status_code = 503


class SpeechToText(Protocol):
    name: str

    async def transcribe(self, clip: Clip) -> str:
        """The words in 16 kHz mono audio. Raises SpeechUnavailable."""
        ...

    async def check(self) -> None: ...

    async def close(self) -> None: ...
