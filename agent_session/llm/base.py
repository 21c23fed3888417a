"""What the agent loop asks of a language model: given the conversation, the next action(s)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ActionCall:
    """One action the model chose. `arguments` stays a string when the model's JSON was broken,
    so the loop can tell the model what was wrong instead of guessing."""

    name: str
    arguments: dict[str, Any] | str
    call_id: str | None = None


@dataclass(frozen=True)
class LLMReply:
    actions: list[ActionCall]
    text: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class LLMRequest:
    """`messages` are session events (user/assistant/tool dicts), oldest first; `actions` are
    `{"name", "description", "parameters"}` specs from the action registry."""

    system_prompt: str
    messages: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    session_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class LLMClient(Protocol):
    name: str

    async def complete(self, request: LLMRequest) -> LLMReply:
        """The model's next step. Raises `LLMUnavailable`, `LLMTimeout` or `LLMBadResponse`."""
        ...

    async def check(self) -> None:
        """Raise `LLMUnavailable` when the model cannot serve (for `/ready`)."""
        ...

    async def close(self) -> None: ...
