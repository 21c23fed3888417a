"""Helpers of the session-store conformance suite: sessions to store, written the one way a
store allows (a turn's commit)."""

from __future__ import annotations

from datetime import timedelta

from agent_session.stores.base import Session, SessionStore


def new_session(clock, sid="s1", user="u1", ttl=60, messages=None) -> Session:
    now = clock.now()
    return Session(session_id=sid, user_id=user, created_at=now, updated_at=now,
                   expires_at=now + timedelta(seconds=ttl), messages=messages or [])


async def put(store: SessionStore, session: Session) -> Session:
    """`session` written by a turn of its own (over whatever is stored under its id)."""
    async with store.turn(session.session_id, wait=1) as held:
        return await held.commit(session)


def said(session: Session | None) -> list[str]:
    return [m.content for m in session.messages] if session else []
