"""What an agent strategy asks of a language model: the next action(s) given the conversation
(`react`), or one JSON object fitting a schema (`form`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..events import Event


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
    """`messages` are session events (`events.py`), oldest first; `actions` are
    `{"name", "description", "parameters"}` specs from the action registry."""

    system_prompt: str
    messages: list[Event]
    actions: list[dict[str, Any]]
    session_id: str = ""


@dataclass(frozen=True)
class JSONRequest:
    """One generation constrained to a JSON schema (the form strategy's extraction).
    `messages` are plain chat messages (`role`, `content`), system first."""

    messages: list[dict[str, str]]
    schema: dict[str, Any]
    session_id: str = ""
    max_tokens: int = 160


class LLMClient(Protocol):
    name: str

    async def complete(self, request: LLMRequest) -> LLMReply:
        """The model's next step. Raises `LLMUnavailable`, `LLMTimeout` or `LLMBadResponse`."""
        ...

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        """A JSON object fitting `request.schema` (as far as the backend can enforce it; the
        caller validates). Raises as `complete`, `LLMBadResponse` for an answer that is not a
        JSON object."""
        ...

    async def check(self) -> None:
        """Raise `LLMUnavailable` when the model cannot serve (for `/ready`)."""
        ...

    async def close(self) -> None: ...
