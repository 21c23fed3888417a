"""Builds the configured session store from `SESSION_STORE`; the only place naming backends."""

from __future__ import annotations

from ..clock import Clock
from ..errors import ConfigurationError
from .base import SessionStore


def build_session_store(url: str, clock: Clock, lease_seconds: float = 60.0,
                        keep_expired_seconds: float = 0.0) -> SessionStore:
    """`keep_expired_seconds`: how long a store whose records expire by themselves (Redis)
    keeps an expired session for the sweep to report (webhooks)."""
    if url == "memory":
        from .memory import MemorySessionStore

        return MemorySessionStore(clock)
    if url.startswith("sqlite:"):
        from .sqlite import SqliteSessionStore

        return SqliteSessionStore(url, clock, lease_seconds)
    if url.startswith(("redis://", "rediss://", "unix://", "redis+cluster://")):
        from .redis import RedisSessionStore

        return RedisSessionStore(url, clock, lease_seconds, keep_expired_seconds)
    raise ConfigurationError(
        f"SESSION_STORE={url.split('://')[0]!r} is not supported; use memory, "
        "sqlite:///path.db, redis://host:port/db or redis+cluster://host:port[,host:port...]."
    )
