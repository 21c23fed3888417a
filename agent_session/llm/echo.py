"""`LLM_BACKEND=echo`: an instant, deterministic model that asks the user's words back as its
question. For load tests, benchmarks and multi-process tests, where a real model's cost or
choices would hide what is measured."""

from __future__ import annotations

from .base import ActionCall, LLMReply, LLMRequest


class EchoLLM:
    name = "echo"

    async def complete(self, request: LLMRequest) -> LLMReply:
        said = next((m["content"] for m in reversed(request.messages) if m.get("role") == "user"),
                    "")
        return LLMReply(actions=[ActionCall("prompt_user", {"question": f"You said: {said}"})])

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
