"""A small scripted agent service for the eval tests: the HTTP contract the player plays
against (/agents, /agents/{agent}, /chat, /agents/{agent}/chat, /session/{id}, /metrics), with
behaviour simple enough to predict turn by turn, so the tests need neither a model nor the
real service.

Agents: `restaurant` (slots guests (integer), date, time, name, seating (choice); reads the
booking back and waits for yes/no before the result) and `cab-booking` (the bundled agent's
slots, no read-back), for the old conversation format. Any message may fill slots with
`slot=value` pairs; otherwise it answers the slot asked. "cancel" cancels, "person" hands off,
"crash" is a 500.
Every user turn counts one model call (read-backs under a second backend label).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from .fakes.server import serve

UTC = ZoneInfo("UTC")
SEATING = ("window", "terrace", "inside")
AGENT_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"  # as the service's: another name is a 422

AGENTS: dict[str, dict[str, Any]] = {
    "restaurant": {
        "name": "restaurant",
        "description": "Books a restaurant table.",
        "strategy": "form",
        "confirm": True,
        "slots": [
            {"name": "guests", "type": "integer", "question": "How many guests?",
             "required": True},
            {"name": "date", "type": "date", "question": "Which day?", "required": True},
            {"name": "time", "type": "time", "question": "What time?", "required": True},
            {"name": "name", "type": "text", "question": "What name is the booking under?",
             "required": True},
            {"name": "seating", "type": "choice", "question": "Window, terrace or inside seating?",
             "required": True},
        ],
        "result_schema": {"type": "object", "properties": {
            "guests": {"type": "integer"}, "date": {"type": "string"},
            "time": {"type": "string"}, "name": {"type": "string"},
            "seating": {"type": "string", "enum": list(SEATING)}}},
    },
    "cab-booking": {
        "name": "cab-booking",
        "description": "Books a cab.",
        "strategy": "form",
        "confirm": False,
        "slots": [{"name": n, "type": "text", "question": q, "required": True} for n, q in [
            ("pickup_location", "Where should the cab pick you up from?"),
            ("destination", "Where are you going?"), ("date", "What day do you need the cab?"),
            ("time", "What time should it pick you up?"),
            ("preferences", "Which vehicle would you like?")]],
        "result_schema": {"type": "object", "properties": {
            n: {"type": "string"} for n in
            ["pickup_location", "destination", "date", "time", "preferences"]}},
    },
}


@dataclass
class Session:
    agent: str
    user_id: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    asking: str | None = None
    confirming: bool = False
    done: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None


def public(agent: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in agent.items() if k != "confirm"}


def fake_service(tz: ZoneInfo = UTC, metrics_status: int = 200,
                 api_key: str | None = None) -> FastAPI:
    """The fake as an ASGI app; `metrics_status` 401 makes /metrics unreadable."""
    app = FastAPI()
    sessions: dict[str, Session] = {}
    calls = {"local": 0, "openai": 0}

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if api_key and request.headers.get("X-API-Key") != api_key:
            return JSONResponse({"detail": "Missing or invalid API key."}, status_code=401)
        return await call_next(request)

    def agent_or_404(name: str) -> dict[str, Any]:
        if name not in AGENTS:
            raise HTTPException(404, f"No agent named {name!r}.")
        return AGENTS[name]

    @app.get("/agents")
    async def list_agents() -> dict[str, Any]:
        return {"agents": [public(a) for a in AGENTS.values()]}

    @app.get("/agents/{agent}")
    async def get_agent(agent: str = Path(pattern=AGENT_PATTERN)) -> dict[str, Any]:
        return public(agent_or_404(agent))

    def value(slot: str, text: str) -> Any:
        if slot == "guests" and text.isdigit():
            return int(text)
        if slot == "date":
            today = datetime.now(tz).date()
            days = {"today": 0, "tomorrow": 1}.get(text.lower())
            if match := re.fullmatch(r"in (\d+) days", text.lower()):
                days = int(match.group(1))
            if days is not None:
                return (today + timedelta(days=days)).isoformat()
        return text

    def turn(agent_name: str, body: dict[str, Any]) -> dict[str, Any]:
        agent = agent_or_404(agent_name)
        session_id, query = body["session_id"], body["query"]
        session = sessions.setdefault(session_id, Session(agent_name, body.get("user_id")))
        if session.done:
            session.slots, session.done, session.result = {}, False, None
        session.messages.append({"role": "user", "content": query})
        text = query.strip().lower()

        def answer(outcome: str, question: str = "", asking: str | None = None,
                   result: dict[str, Any] | None = None) -> dict[str, Any]:
            calls["openai" if session.confirming else "local"] += 1
            session.asking = asking
            content = question or str(result)
            session.messages.append({"role": "assistant", "content": content})
            return {"session_id": session_id, "query": question,
                    "final_response": result or {}, "status_code": "200" if result else "201",
                    "error": None, "agent": agent_name, "asking": asking, "outcome": outcome}

        if "crash" in text:
            raise HTTPException(500, "Internal error; logged.")
        if "cancel" in text:
            session.done = True
            return answer("cancelled", "Okay, I've dropped that booking.")
        if "person" in text:
            session.done = True
            return answer("handoff", "I'll put you through to a person.")
        if session.confirming:
            if text.startswith("yes"):
                session.messages.append({"role": "tool", "content": "", "name": "book_table",
                                         "arguments": dict(session.slots),
                                         "observation": {"booked": True}})
                session.done, session.confirming = True, False
                session.result = dict(session.slots)
                return answer("final", result=session.result)
            session.confirming = False
            session.slots.pop("time", None)
        pairs = re.findall(r"(\w+)=(\S+)", query)
        for slot, said in pairs:
            session.slots[slot] = value(slot, said)
        if not pairs and session.asking:
            session.slots[session.asking] = value(session.asking, query.strip())
        if "date" in session.slots and not any(m.get("name") == "check_availability"
                                                for m in session.messages):
            session.messages.append({"role": "tool", "content": "",
                                     "name": "check_availability",
                                     "arguments": {"date": session.slots["date"]},
                                     "observation": {"free": True}})
        if session.slots.get("seating") not in (None, *SEATING) and agent_name == "restaurant":
            session.slots.pop("seating")
            return answer("question", "Sorry, we have window, terrace or inside seating.",
                          "seating")
        for slot in agent["slots"]:
            if slot["name"] not in session.slots:
                return answer("question", slot["question"], slot["name"])
        if agent["confirm"]:
            s = session.slots
            session.confirming = True
            return answer("confirm", f"A table for {s['guests']} on {s['date']} at {s['time']} "
                                     f"under {s['name']}, {s['seating']} seating. Shall I book it?")
        session.done = True
        session.result = dict(session.slots)
        return answer("final", result=session.result)

    @app.post("/chat")
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        return turn(body.get("agent") or "restaurant", body)

    @app.post("/agents/{agent}/chat")
    async def agent_chat(agent: str, body: dict[str, Any]) -> dict[str, Any]:
        return turn(agent, body)

    @app.get("/session/{session_id}")
    async def get_session(session_id: str) -> dict[str, Any]:
        if session_id not in sessions:
            raise HTTPException(404, "No such session.")
        s = sessions[session_id]
        return {"session_id": session_id, "user_id": s.user_id, "agent": s.agent,
                "messages": s.messages, "result": s.result}

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        if metrics_status != 200:
            return PlainTextResponse("Unauthorized", status_code=metrics_status)
        lines = ["# HELP agent_llm_call_seconds Latency of one LLM call",
                 "# TYPE agent_llm_call_seconds histogram"]
        for backend, count in calls.items():
            lines.append(f'agent_llm_call_seconds_bucket{{backend="{backend}",le="+Inf"}} '
                         f"{float(count)}")
            lines.append(f'agent_llm_call_seconds_count{{backend="{backend}"}} {float(count)}')
            lines.append(f'agent_llm_call_seconds_sum{{backend="{backend}"}} 0.0')
        return PlainTextResponse("\n".join(lines) + "\n")

    return app


@contextmanager
def served(**options: Any) -> Iterator[str]:
    """The fake over real HTTP on 127.0.0.1 (a free port, a background thread): its URL."""
    with serve(fake_service(**options)) as url:
        yield url


# The cases the tests play: what each exercises is in its id.
CASES_YAML = """\
agent: restaurant
user_id: "42"
max_turns: 8
cases:
  - id: p01-step-by-step
    first: I'd like a table
    replies: {guests: 4, date: tomorrow, time: "19:30", name: Ada, seating: window}
    expect:
      guests: 4
      date: +1d
      time: "19:30"
      name_contains: ADA
      seating: window
      asks: [guests, date, time, name, seating]
      actions: [check_availability, book_table]
      says_contains: [how many, seating]
  - id: p02-all-in-one
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {guests: 2, date: +0d, asks: []}
  - id: p03-confirm-no
    first: guests=2 date=today time=12:00 name=Bo seating=inside
    replies: {confirm: "no, later", time: "20:00"}
    at_turn: {4: "yes please"}
    expect: {time: "20:00", asks: [time]}
  - id: p04-handoff
    first: guests=3
    at_turn: {2: "can I talk to a person?"}
    expect: {outcome: handoff, asks: [date], says_contains: person}
  - id: p05-cancelled
    user_id: "7"
    first: guests=3 date=today
    replies: {other: "cancel it"}
    expect: {outcome: cancelled}
"""

FAILING_YAML = """\
agent: restaurant
cases:
  - id: f01-value
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {name: Bob}
  - id: f02-type
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {guests: "2"}
  - id: f03-contains
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {name_contains: zed}
  - id: f04-relative-day
    first: guests=2 date=tomorrow time=12:00 name=Bo seating=terrace
    expect: {date: +2d}
  - id: f05-outcome
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {outcome: handoff}
  - id: f06-asks
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {asks: [guests]}
  - id: f07-actions
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {actions: [check_availability, send_sms]}
  - id: f08-says
    first: guests=2 date=today time=12:00 name=Bo seating=terrace
    expect: {says_contains: [shall i book, dessert]}
"""

OLD_FORMAT_JSON = """{
  "format": {"about": "the old conversation format"},
  "max_turns": 8,
  "conversations": [
    {"id": "c01-step-by-step", "user_id": "12345", "first": "I need a cab",
     "replies": {"pickup": "Whitefield", "destination": "Electronic City", "date": "tomorrow",
                 "time": "17:00", "preferences": "sedan", "other": "yes"},
     "expect": {"pickup_location_contains": "whitefield", "destination_contains": "Electronic",
                "date": "+1d", "time": "17:00", "preferences_contains": "SEDAN"}}
  ]
}
"""
