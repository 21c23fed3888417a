"""The form strategy's state between turns, stored with each question it asks.

It rides on the turn's stored `Question` event, so it needs no storage of its own, a failed
turn changes nothing, and every store loads it the same way (it is part of the event's JSON).
Stored sessions of earlier releases carried a plain dict here (`values`, `said`, `asking` and
the model's raw output, `extracted`): they load into this model, the raw output dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer


class PendingHour(BaseModel):
    """An hour said without am/pm ("at 9"), waiting for the user to say which half of the day."""

    slot: str
    hour: int = Field(ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    said: str


class FormState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    values: dict[str, Any] = Field(default_factory=dict)
    """Each filled slot's value as the result will carry it (None: an optional slot skipped)."""
    said: dict[str, str] = Field(default_factory=dict)
    """The user's words each value came from."""
    asking: str | None = None
    """The slot the last question asked for."""
    attempts: dict[str, int] = Field(default_factory=dict)
    """How many answers in a row left a slot unfilled (a hand-off at the agent's max_attempts)."""
    confirming: bool = False
    """The last question read the result back for a yes or no."""
    pending: PendingHour | None = None
    ended: Literal["handoff", "cancelled"] | None = None
    """The task ended without a result: the next message starts a new one."""

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> dict[str, Any]:
        """Stored as earlier releases stored it (`values`, `said`, `asking`), the newer keys
        only when they hold something."""
        data = handler(self)
        return {k: v for k, v in data.items()
                if k in ("values", "said", "asking") or v not in (None, False, {})}

    def clear(self, name: str) -> None:
        self.values.pop(name, None)
        self.said.pop(name, None)

    def filled(self, name: str) -> bool:
        return name in self.values
