"""`LLM_BACKEND=echo`: an instant, deterministic model that asks the user's words back as its
question (and, for a form agent, extracts nothing). For load tests, benchmarks and
multi-process tests, where a real model's cost or choices would hide what is measured."""

from __future__ import annotations

from typing import Any

from ..events import UserMessage
from .base import ActionCall, JSONRequest, LLMReply, LLMRequest

MAX_QUESTION = 500


class EchoLLM:
    name = "echo"

    async def complete(self, request: LLMRequest) -> LLMReply:
        said = next((m.content for m in reversed(request.messages)
                     if isinstance(m, UserMessage)), "")
        question = f"You said: {said}"
        if len(question) > MAX_QUESTION:  # prompt_user takes at most 500 characters
            question = question[: MAX_QUESTION - 1] + "…"
        return LLMReply(actions=[ActionCall("prompt_user", {"question": question})])

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        """Extracts nothing: a form agent asks its first question back, instantly."""
        return {}

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
