"""Sessions saved by the previous release (before typed events) load as typed events, are
written back in exactly the same JSON, and go on where they stopped.

`tests/data/sessions_saved_2026-12-01.json` holds the sqlite rows that release stored for a
react conversation (an invalid action, steps, a question, a result, a fallback) and a form
conversation (a question carrying the form's state)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from agent_session.events import (
    ActionStep,
    FinalResult,
    InvalidAction,
    Question,
    UserMessage,
)
from agent_session.main import create_app
from agent_session.services import Overrides
from agent_session.stores.base import Session
from agent_session.stores.sqlite_schema import COLUMNS, SCHEMA

from .conftest import make_settings, running
from .fakes.clock import FakeClock
from .fakes.scripted_llm import ScriptedLLM, call

ROWS = json.loads((Path(__file__).parent / "data/sessions_saved_2026-12-01.json").read_text())
SAVED = {row["session_id"]: row for row in ROWS}


def stored_messages(session_id: str) -> list[dict]:
    return json.loads(SAVED[session_id]["body"])["messages"]


def without_raw_output(messages: list[dict]) -> list[dict]:
    return [{**m, "form": {k: v for k, v in m["form"].items() if k != "extracted"}}
            if "form" in m else m for m in messages]


def test_every_stored_event_loads_typed_and_dumps_back_the_same():
    messages = stored_messages("saved-2026-12-01") + stored_messages("form-2026-12-01")
    session = Session.model_validate({
        "session_id": "x", "created_at": "2026-11-25T10:00:00Z",
        "updated_at": "2026-11-25T10:00:00Z", "expires_at": "2026-11-25T10:30:00Z",
        "messages": messages})
    kinds = [type(event) for event in session.messages]
    assert kinds[:4] == [UserMessage, InvalidAction, ActionStep, Question]
    assert FinalResult in kinds
    assert [e for e in session.messages if isinstance(e, Question) and e.fallback]
    assert [e for e in session.messages if isinstance(e, Question) and e.form]
    # What the old release reads: the same JSON, less the form's raw model output
    # (`extracted`), which this release neither keeps nor shows.
    assert session.model_dump(mode="json")["messages"] == without_raw_output(messages)


async def test_saved_sessions_go_on_where_they_stopped(tmp_path):
    path = tmp_path / "sessions.db"
    with sqlite3.connect(path) as conn:  # the previous release's file, as it left it
        conn.executescript(SCHEMA)
        conn.executemany(f"INSERT INTO sessions ({', '.join(COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(COLUMNS))})",
                         [tuple(row[c] for c in COLUMNS) for row in ROWS])
    llm = ScriptedLLM([{"destination": "Koramangala"},  # the form session's next extraction
                       [call("prompt_user", question="Where from, this time?")]])
    settings = make_settings(session_store=f"sqlite:///{path}", agent_strategy="form")
    async with running(create_app(settings, Overrides(llm=llm, clock=FakeClock()))) as client:
        before = (await client.get("/session/form-2026-12-01")).json()["messages"]
        assert before == without_raw_output(stored_messages("form-2026-12-01"))
        answer = (await client.post("/chat", json={
            "session_id": "form-2026-12-01", "user_id": "12345",
            "query": "to Koramangala"})).json()
        # The stored form state (pickup known) carried on: the next missing slot is asked.
        assert answer["status_code"] == "201" and answer["query"] == "What day do you need the cab?"
        after = (await client.get("/session/form-2026-12-01")).json()["messages"]
        assert after[:len(before)] == before
    react = make_settings(session_store=f"sqlite:///{path}", agent_strategy="react")
    async with running(create_app(react, Overrides(llm=llm, clock=FakeClock()))) as client:
        answer = (await client.post("/chat", json={
            "session_id": "saved-2026-12-01", "user_id": "12345", "query": "again"})).json()
        assert answer["query"] == "Where from, this time?"
        history = llm.requests[-1].messages  # the stored history, typed, then this turn
        assert [type(e) for e in history][:4] == [UserMessage, InvalidAction, ActionStep,
                                                  Question]
        assert history[-1] == UserMessage(content="again", at=history[-1].at)
