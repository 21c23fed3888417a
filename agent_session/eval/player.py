"""Plays scripted conversations against the service over HTTP and checks the results.

The format is in `conversations/*.json` (`format`): the player sends `first`, answers each
question (status "201") from the conversation's `replies` by the slot the question is about
(or, at user turn N, with `at_turn["N"]` when the script has one: a correction, an off-topic
answer), and checks the final result (status "200") against `expect`.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

# Checked in this order: a question naming a time and a pick-up is about the time.
SLOT_WORDS: list[tuple[str, list[str]]] = [
    ("time", ["time", "o'clock", "hour"]),
    ("date", ["date", "day", "when"]),
    ("preferences", ["vehicle", "car", "prefer", "type", "cab type"]),
    ("destination", ["destination", "drop", "going", "where to"]),
    ("pickup", ["pick up", "pickup", "from", "start"]),
]


def slot_of(question: str) -> str:
    text = question.lower()
    for slot, words in SLOT_WORDS:
        if any(re.search(rf"\b{re.escape(word)}", text) for word in words):
            return slot
    return "other"


@dataclass
class Outcome:
    conversation_id: str
    passed: bool
    turns: int = 0
    steps: int = 0
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    turn_seconds: list[float] = field(default_factory=list)


def check(expect: dict[str, Any], result: dict[str, Any], start_day: date) -> list[str]:
    problems = []
    for key, wanted in expect.items():
        if key.endswith("_contains"):
            name = key.removesuffix("_contains")
            if str(wanted).lower() not in str(result.get(name, "")).lower():
                problems.append(f"{name}={result.get(name)!r} lacks {wanted!r}")
        elif key == "date":
            match = re.fullmatch(r"\+(\d+)d", str(wanted))
            target = (start_day + timedelta(days=int(match.group(1)))).isoformat() if match \
                else str(wanted)
            if result.get("date") != target:
                problems.append(f"date={result.get('date')!r}, expected {target}")
        elif result.get(key) != wanted:
            problems.append(f"{key}={result.get(key)!r}, expected {wanted!r}")
    return problems


async def play(client: httpx.AsyncClient, conversation: dict[str, Any], max_turns: int,
               tz: ZoneInfo, headers: dict[str, str] | None = None) -> Outcome:
    session_id = f"eval-{conversation['id']}-{uuid.uuid4().hex[:8]}"
    outcome = Outcome(conversation["id"], passed=False)
    start_day = datetime.now(tz).date()
    started = time.perf_counter()
    query = conversation["first"]
    for _ in range(max_turns):
        outcome.turns += 1
        outcome.transcript.append(("user", query))
        body = {"session_id": session_id, "query": query}
        if conversation.get("user_id"):
            body["user_id"] = conversation["user_id"]
        sent = time.perf_counter()
        response = await client.post("/chat", json=body, headers=headers, timeout=600)
        outcome.turn_seconds.append(time.perf_counter() - sent)
        if response.status_code != 200:
            outcome.problems.append(f"HTTP {response.status_code}: {response.text[:200]}")
            break
        reply = response.json()
        if reply["status_code"] == "200":
            outcome.result = reply["final_response"]
            outcome.problems = check(conversation.get("expect", {}), outcome.result, start_day)
            outcome.passed = not outcome.problems
            break
        question = reply["query"]
        outcome.transcript.append(("agent", question))
        replies = conversation.get("replies", {})
        scripted = conversation.get("at_turn", {}).get(str(outcome.turns + 1))
        query = scripted or replies.get(slot_of(question)) or replies.get("other") or "yes"
    else:
        outcome.problems.append(f"no result within {max_turns} turns")
    outcome.seconds = time.perf_counter() - started
    session = await client.get(f"/session/{session_id}", headers=headers)
    if session.status_code == 200:
        outcome.steps = sum(1 for m in session.json()["messages"] if m["role"] == "tool")
    return outcome
