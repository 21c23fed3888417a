"""The outbox every session store keeps: events written in the same commit as the turn (or the
expiry) that caused them, then handed out to senders one session at a time, in order.

An event is delivered at least once: it stays stored until a sender says it was delivered. A
sender claims an event with a lease; while the lease lasts no other sender (in this process or
another replica) gets it, and a sender that dies leaves it to be claimed again when the lease
lapses. A failed attempt puts it back with a delay (the back-off). Only the oldest event of a
session is ever handed out, so a session's events arrive in the order they were written.
Due times and leases are wall-clock microseconds: they order senders in different processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel

if TYPE_CHECKING:
    from .base import Session


class OutboxEvent(BaseModel):
    """One event to deliver: `payload` is the exact body every attempt sends, and `id` (the
    `webhook-id`) is the same on every attempt, so a receiver can drop duplicates."""

    id: str
    session_id: str
    type: str
    payload: str
    created_us: int
    attempts: int = 0


ExpiryEvent = Callable[[str, "Session | None"], OutboxEvent]
"""Builds the event for a session the sweep removes (None: its record was already gone)."""


def now_us() -> int:
    return time.time_ns() // 1000


class Outbox(Protocol):
    """What a sender needs from a store (the writes go with `StoreTurn.commit` and
    `SessionStore.delete_expired`)."""

    async def claim_events(self, owner: str, lease_seconds: float, limit: int,
                           session_id: str | None = None) -> list[OutboxEvent]:
        """Up to `limit` events that are due, each the oldest of its session, leased to
        `owner` for `lease_seconds` (of one session only, when `session_id` is given)."""
        ...

    async def event_delivered(self, event: OutboxEvent, owner: str) -> None:
        """Remove the event, if `owner` still holds its lease."""
        ...

    async def event_failed(self, event: OutboxEvent, owner: str, retry_in: float) -> None:
        """Count the failed attempt and make the event due again in `retry_in` seconds, if
        `owner` still holds its lease."""
        ...

    async def outbox_backlog(self) -> tuple[int, int | None]:
        """How many events wait, and when the oldest was written (µs), for the metrics."""
        ...
