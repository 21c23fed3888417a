"""Time source, injectable so expiry and relative dates can be tested without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """A moment as integer microseconds since the epoch, exactly: how the stores keep and
    compare times (ordered as numbers, no float rounding)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def wall_us() -> int:
    """Leases are shared between processes, so they use the wall clock, never an injected one."""
    return to_us(datetime.now(UTC))
