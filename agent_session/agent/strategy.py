"""What `SessionManager` asks of an agent: play one turn on a session's history.

Two strategies implement it, one module each: `loop.AgentLoop` (`react`: the model plans, calling
actions until it asks or finishes) and `form.FormStrategy` (`form`: the model only extracts the
user's words for the agent's slots, and a deterministic flow resolves them and decides what to
ask). `AGENT_STRATEGY` picks one; `auto` is `form` on the embedded model, `react` elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..events import Event, UserMessage
from .actions import ActionContext

StepCallback = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class TurnOutcome:
    """Every kind but `final` is a question (status "201"): `fallback` the agent's
    `fallback_question`, asked when the strategy could not make progress; `confirm` the result
    read back for a yes or no; `handoff` the agent's `handoff_message` (the task is over);
    `cancelled` the user dropped the task in words. Each is counted apart in `/metrics`."""

    kind: Literal["question", "final", "fallback", "confirm", "handoff", "cancelled"]
    question: str | None = None
    result: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)
    steps: int = 0
    asking: str | None = None  # the slot the question asks for (form strategy)


class AgentStrategy(Protocol):
    name: str
    needs_warm_up: bool  # whether `prepare` does anything (then `/ready` waits for it)

    async def prepare(self) -> None:
        """Started in the background at start-up (warm a model up); never raises."""
        ...

    async def run(self, history: list[Event], user_message: UserMessage,
                  ctx: ActionContext, on_step: StepCallback | None = None) -> TurnOutcome:
        """Play one turn. `history` is not modified; the outcome's `events` are the new tool and
        assistant messages, which the caller stores after `user_message`."""
        ...
