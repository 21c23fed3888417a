"""Builds the configured session store from `SESSION_STORE`; the only place naming backends."""

from __future__ import annotations

from ..clock import Clock
from .base import SessionStore


def build_session_store(url: str, clock: Clock) -> SessionStore:
    if url == "memory":
        from .memory import MemorySessionStore

        return MemorySessionStore(clock)
    raise ValueError(
        f"SESSION_STORE={url.split('://')[0]!r} is not supported; use 'memory'."
    )
