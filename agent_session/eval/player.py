"""Plays case files against the service over HTTP and checks what each conversation showed.

The player never guesses what a question is about: the service says it (`asking`, the slot
name, and `outcome`), and the agent's slots and result fields come from `GET /agents/{agent}`,
so the same code plays any agent, in process or at any URL.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from .cases import (
    RELATIVE_DAY,
    AgentInfo,
    Case,
    CaseFile,
    CaseFileError,
    Expect,
    check_against,
    from_old_format,
)

# A turn may wait for a slow model (the embedded one on a loaded machine): the service's own
# deadlines answer first.
TURN_TIMEOUT = 600.0
MODEL_CALLS = re.compile(r"^agent_llm_call_seconds_count(?:\{[^}]*\})?\s+(\S+)", re.MULTILINE)


@dataclass
class CaseResult:
    """One played case (one repeat of it): the verdict, its problems and what was seen."""

    case_id: str
    name: str  # the id, or id#k when cases are repeated
    agent: str
    source: str = ""
    passed: bool = False
    problems: list[str] = field(default_factory=list)
    turns: int = 0
    seconds: float = 0.0
    model_calls: int | None = None  # None: /metrics not readable
    outcome: str | None = None  # None: no final/handoff/cancelled within max_turns
    result: dict[str, Any] | None = None
    asked: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    actions: list[str] | None = None  # None: the session was not readable
    transcript: list[tuple[str, str]] = field(default_factory=list)
    turn_seconds: list[float] = field(default_factory=list)

    @property
    def conversation_id(self) -> str:
        return self.case_id

    @property
    def steps(self) -> int:
        return len(self.actions or [])

    def transcript_text(self) -> str:
        lines = [f"{who}: {text}" for who, text in self.transcript]
        if self.actions is not None:
            lines.append(f"actions: {', '.join(self.actions) or 'none'}")
        return "\n".join(lines)


# `Outcome` was this class's name before case files; bench/llm_local.py reads its fields.
Outcome = CaseResult


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def json_type(value: Any) -> str:
    """The JSON type name, for messages such as `got "4" (string), expected 4 (integer)`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def same(actual: Any, wanted: Any) -> bool:
    """Equal as JSON values: 4 and "4" differ, so do true and 1; 4 and 4.0 do not."""
    if json_type(actual) in ("integer", "number") and json_type(wanted) in ("integer", "number"):
        return bool(actual == wanted)
    if json_type(actual) != json_type(wanted):
        return False
    if isinstance(wanted, dict):
        return actual.keys() == wanted.keys() and all(same(actual[k], v)
                                                      for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return len(actual) == len(wanted) and all(map(same, actual, wanted))
    return bool(actual == wanted)


def check_field(key: str, wanted: Any, result: dict[str, Any], start_day: date) -> str | None:
    """The problem with one result-field expectation, or None when it holds."""
    name = key.removesuffix("_contains")
    if key != name and key not in result:  # `name_contains: ada`
        if name not in result:
            return f"{key}: {name} missing from the result"
        actual = result[name]
        text = actual if isinstance(actual, str) else _json(actual)
        if str(wanted).lower() in text.lower():
            return None
        return f"{key}: {name} is {_json(actual)}, which does not contain {_json(wanted)}"
    shown = _json(wanted)
    if isinstance(wanted, str) and (relative := RELATIVE_DAY.match(wanted)):
        wanted = (start_day + timedelta(days=int(relative.group(1)))).isoformat()
        shown = f"{_json(wanted)} ({relative.group(0)})"
    if key not in result:
        return f"{key}: missing from the result, expected {shown}"
    actual = result[key]
    if same(actual, wanted):
        return None
    types = {json_type(actual), json_type(wanted)}
    if len(types) > 1 and not types <= {"integer", "number"}:
        return (f"{key}: got {_json(actual)} ({json_type(actual)}), expected {shown} "
                f"({json_type(wanted)})")
    return f"{key}: got {_json(actual)}, expected {shown}"


def check(expect: Expect, played: CaseResult, start_day: date, max_turns: int) -> list[str]:
    """Every expectation `played` misses, each line starting with the key it is about."""
    problems = []
    if played.outcome != expect.outcome:
        if played.outcome is not None:
            problems.append(f"outcome: got {played.outcome}, expected {expect.outcome}")
        elif played.turns >= max_turns:
            problems.append(f"outcome: no {expect.outcome} within {played.turns} turns "
                            f"(max_turns {max_turns})")
        else:
            problems.append(f"outcome: none, expected {expect.outcome}")
    fields = expect.fields
    if fields and played.result is None:
        problems.append(f"{', '.join(fields)}: no result to check "
                        f"(outcome {played.outcome or 'none'})")
    elif played.result is not None:
        for key, wanted in fields.items():
            if problem := check_field(key, wanted, played.result, start_day):
                problems.append(problem)
    if expect.asks is not None and played.asked != expect.asks:
        problems.append(f"asks: got {_json(played.asked)}, expected {_json(expect.asks)}")
    if expect.actions:
        if played.actions is None:
            problems.append("actions: the session could not be read to see them")
        elif missing := [a for a in expect.actions if a not in played.actions]:
            problems.append(f"actions: {_json(missing)} never ran (ran: {_json(played.actions)})")
    for words in expect.says_contains or []:
        if not any(words.lower() in question.lower() for question in played.questions):
            problems.append(f"says_contains: no question contains {_json(words)}")
    return problems


def headers_for(api_key: str | None) -> dict[str, str] | None:
    return {"X-API-Key": api_key} if api_key else None


async def model_calls(client: httpx.AsyncClient,
                      headers: dict[str, str] | None = None) -> int | None:
    """Model calls so far, summed over backends; None when /metrics cannot be read."""
    try:
        response = await client.get("/metrics", headers=headers)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return round(sum(float(v) for v in MODEL_CALLS.findall(response.text)))
    except ValueError:
        return None


async def fetch_agent(client: httpx.AsyncClient, name: str, source: str,
                      headers: dict[str, str] | None = None) -> AgentInfo:
    """The agent's slots and result fields from the service; CaseFileError when it has no
    such agent (naming the ones it has) or cannot be asked."""
    try:
        response = await client.get(f"/agents/{quote(name, safe='')}", headers=headers)
        if response.status_code in (404, 422):  # 422: not even a valid agent name
            known = ""
            listing = await client.get("/agents", headers=headers)
            if listing.status_code == 200:
                names = [a.get("name") for a in listing.json().get("agents", [])]
                known = f" (agents: {', '.join(str(n) for n in names) or 'none'})"
            raise CaseFileError(source, f"unknown agent {name!r}{known}")
    except httpx.HTTPError as exc:
        raise CaseFileError(source, f"cannot reach the service at {client.base_url}: "
                                    f"{type(exc).__name__} {exc}") from None
    if response.status_code != 200:
        raise CaseFileError(source, f"GET /agents/{name}: HTTP {response.status_code} "
                                    f"{response.text[:200]}")
    return AgentInfo.from_json(response.json())


def _session_id(case_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._:@-]+", "-", case_id)[:80]
    return f"eval-{slug}-{uuid.uuid4().hex[:8]}"


async def play_case(client: httpx.AsyncClient, case: Case, *, agent: str, tz: ZoneInfo,
                    max_turns: int = 8, user_id: str | None = None,
                    headers: dict[str, str] | None = None, name: str | None = None,
                    source: str = "") -> CaseResult:
    """Play one case: `first`, then a reply to each question by its `asking` slot, until the
    agent answers with a result, hands off or cancels, or `max_turns` user turns are spent."""
    played = CaseResult(case_id=case.id, name=name or case.id, agent=agent, source=source)
    session_id = _session_id(case.id)
    user_id = case.user_id or user_id
    start_day = datetime.now(tz).date()
    calls_before = await model_calls(client, headers)
    path = f"/agents/{quote(agent, safe='')}/chat"
    started = time.perf_counter()
    case.start()
    query = case.first
    for turn in range(1, max_turns + 1):
        played.turns = turn
        played.transcript.append(("user", query))
        body: dict[str, Any] = {"session_id": session_id, "query": query}
        if user_id:
            body["user_id"] = user_id
        sent = time.perf_counter()
        try:
            response = await client.post(path, json=body, headers=headers,
                                         timeout=TURN_TIMEOUT)
        except httpx.HTTPError as exc:
            played.problems.append(f"http: {type(exc).__name__} {exc}")
            break
        finally:
            played.turn_seconds.append(time.perf_counter() - sent)
        if response.status_code != 200:
            played.problems.append(f"http: {response.status_code} {response.text[:200]}")
            break
        try:
            reply = response.json()
        except ValueError:
            played.problems.append(f"http: 200 but not JSON: {response.text[:200]}")
            break
        outcome = reply.get("outcome") or ("final" if reply.get("status_code") == "200"
                                           else "question")
        if outcome == "final":
            played.outcome = outcome
            played.result = reply.get("final_response") or {}
            played.transcript.append(("agent (final)", _json(played.result)))
            break
        asking = reply.get("asking")
        question = reply.get("query") or ""
        played.questions.append(question)
        if asking:
            played.asked.append(asking)
        played.transcript.append((f"agent ({outcome}{', asking ' + asking if asking else ''})",
                                  question))
        if outcome in ("handoff", "cancelled"):
            played.outcome = outcome
            break
        query = case.reply(turn + 1, outcome, asking)
    played.seconds = time.perf_counter() - started
    try:
        session = await client.get(f"/session/{quote(session_id, safe='')}", headers=headers)
        if session.status_code == 200:
            played.actions = [str(m.get("name")) for m in session.json().get("messages", [])
                              if m.get("role") == "tool"]
    except httpx.HTTPError:
        pass
    calls_after = await model_calls(client, headers)
    if calls_before is not None and calls_after is not None:
        played.model_calls = calls_after - calls_before
    played.problems += check(case.expect, played, start_day, max_turns)
    played.passed = not played.problems
    return played


Callback = Callable[[int, int, str], Awaitable[None] | None]
ResultCallback = Callable[[int, int, CaseResult], Awaitable[None] | None]


@dataclass
class Planned:
    case_file: CaseFile
    case: Case
    agent: str
    name: str


def select(case_files: Sequence[CaseFile], only: Sequence[str] | None,
           agent: str | None, repeat: int) -> list[Planned]:
    """The plays in order (each case `repeat` times in a row); `only` ids (or their prefix
    before the first "-", such as c01) that match no case are bad input."""
    plan = []
    wanted = set(only or [])
    matched: set[str] = set()
    for case_file in case_files:
        name = agent or case_file.agent
        if not name:
            raise CaseFileError(case_file.source, "no agent: set `agent` or pass --agent")
        for case in case_file.cases:
            keys = {case.id, case.id.split("-")[0]}
            if wanted and not keys & wanted:
                continue
            matched |= keys & wanted
            for k in range(1, repeat + 1):
                plan.append(Planned(case_file, case, name,
                                    case.id if repeat == 1 else f"{case.id}#{k}"))
    unknown = sorted(wanted - matched)
    if unknown:
        raise CaseFileError("--only", f"no case {', '.join(unknown)} in "
                                      f"{', '.join(f.source for f in case_files)}")
    return plan


async def _call(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is not None:
        outcome = callback(*args)
        if outcome is not None and hasattr(outcome, "__await__"):
            await outcome


async def evaluate(client: httpx.AsyncClient, case_files: Sequence[CaseFile], *,
                   tz: ZoneInfo, agent: str | None = None, only: Sequence[str] | None = None,
                   repeat: int = 1, api_key: str | None = None,
                   on_start: Callback | None = None,
                   on_result: ResultCallback | None = None) -> list[CaseResult]:
    """Check every file against its agent (CaseFileError on bad input, before anything is
    played), then play the selected cases one at a time (so that the model calls between two
    /metrics reads are the case's) and return their results in order."""
    if repeat < 1:
        raise CaseFileError("--repeat", "must be 1 or more")
    headers = headers_for(api_key)
    plan = select(case_files, only, agent, repeat)
    agents: dict[str, AgentInfo] = {}
    for case_file in case_files:
        name = agent or case_file.agent or ""
        if name not in agents:
            agents[name] = await fetch_agent(client, name, case_file.source, headers)
        check_against(case_file, agents[name])
    results = []
    for index, planned in enumerate(plan):
        await _call(on_start, index, len(plan), planned.name)
        played = await play_case(client, planned.case, agent=planned.agent, tz=tz,
                                 max_turns=planned.case_file.max_turns,
                                 user_id=planned.case_file.user_id, headers=headers,
                                 name=planned.name, source=planned.case_file.source)
        results.append(played)
        await _call(on_result, index, len(plan), played)
    return results


async def play(client: httpx.AsyncClient, conversation: dict[str, Any], max_turns: int,
               tz: ZoneInfo, headers: dict[str, str] | None = None) -> CaseResult:
    """One conversation of an old `conversations/*.json` file against the cab agent: what
    bench/llm_local.py calls."""
    case_file = CaseFile.model_validate(from_old_format({"conversations": [conversation],
                                                         "max_turns": max_turns}))
    return await play_case(client, case_file.cases[0], agent=case_file.agent or "",
                           tz=tz, max_turns=max_turns, headers=headers)
