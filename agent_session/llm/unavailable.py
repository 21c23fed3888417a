"""The client used when no LLM backend can be built: the service still starts, turns answer 503."""

from __future__ import annotations

from typing import Any

from ..errors import LLMUnavailable
from .base import JSONRequest, LLMReply, LLMRequest


class UnavailableLLM:
    name = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def complete(self, request: LLMRequest) -> LLMReply:
        raise LLMUnavailable(self.reason)

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        raise LLMUnavailable(self.reason)

    async def check(self) -> None:
        raise LLMUnavailable(self.reason)

    async def close(self) -> None:
        return None
