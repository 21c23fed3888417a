"""The session events a webhook receiver gets (`docs/architecture.md`, "Webhooks"), built when the
turn or sweep that causes them is written, so every attempt sends the same bytes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from ..stores.base import Session
from ..stores.outbox import OutboxEvent, now_us

EventType = Literal["session.completed", "session.handoff", "session.expired"]


def session_event(kind: EventType, session_id: str, agent: str | None, user_id: str | None,
                  result: dict[str, Any] | None, at: datetime) -> OutboxEvent:
    payload = {"type": kind, "timestamp": at.isoformat(),
               "data": {"session_id": session_id, "agent": agent, "user_id": user_id,
                        "result": result}}
    return OutboxEvent(id=f"msg_{uuid.uuid4().hex}", session_id=session_id, type=kind,
                       payload=json.dumps(payload, separators=(",", ":")),
                       created_us=now_us())


def expiry_event(at: datetime, default_agent: str):
    """The sweep's event builder: what is known of the session (None when its record was gone
    before the sweep came: only its id is)."""

    def build(session_id: str, session: Session | None) -> OutboxEvent:
        if session is None:
            return session_event("session.expired", session_id, None, None, None, at)
        return session_event("session.expired", session_id, session.agent or default_agent,
                             session.user_id, session.result, at)

    return build
