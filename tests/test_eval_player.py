"""The player's core (`evaluate`, `play_case`, `check`) against the fake agent service in
process: what passes, and that each kind of expectation fails with a line naming its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from agent_session.eval import CaseFileError, CaseResult, evaluate, load_case_file
from agent_session.eval.cases import Expect
from agent_session.eval.player import check, play
from agent_session.eval.report import summarize

from .test_eval_fake import CASES_YAML, FAILING_YAML, OLD_FORMAT_JSON, UTC, fake_service


async def client_for(**options) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=fake_service(**options))
    return httpx.AsyncClient(transport=transport, base_url="http://fake")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for() as c:
        yield c


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_passing_cases(client, tmp_path):
    case_file = load_case_file(write(tmp_path, "restaurant.cases.yaml", CASES_YAML))
    results = await evaluate(client, [case_file], tz=UTC)
    assert [(r.name, r.passed, r.problems) for r in results] == [
        ("p01-step-by-step", True, []), ("p02-all-in-one", True, []),
        ("p03-confirm-no", True, []), ("p04-handoff", True, []), ("p05-cancelled", True, [])]
    step_by_step = results[0]
    assert step_by_step.turns == 7  # five questions, the read-back, the yes
    assert step_by_step.asked == ["guests", "date", "time", "name", "seating"]
    assert step_by_step.result is not None and step_by_step.result["guests"] == 4
    assert step_by_step.actions == ["check_availability", "book_table"]
    assert step_by_step.model_calls == 7  # one per turn, summed over both backend labels
    assert [r.outcome for r in results] == ["final", "final", "final", "handoff", "cancelled"]
    summary = summarize(results)
    assert summary.pass_rate == 1.0 and summary.calls_per_turn == 1.0


async def test_each_expectation_fails_naming_its_key(client, tmp_path):
    case_file = load_case_file(write(tmp_path, "failing.yaml", FAILING_YAML))
    results = {r.name: r for r in await evaluate(client, [case_file], tz=UTC)}
    assert not any(r.passed for r in results.values())
    first = {name: r.problems[0] for name, r in results.items()}
    assert first["f01-value"] == 'name: got "Bo", expected "Bob"'
    assert first["f02-type"] == 'guests: got 2 (integer), expected "2" (string)'
    assert first["f03-contains"] == 'name_contains: name is "Bo", which does not contain "zed"'
    assert first["f04-relative-day"].startswith("date: got ")
    assert first["f04-relative-day"].endswith("(+2d)")
    assert first["f05-outcome"] == "outcome: got final, expected handoff"
    assert first["f06-asks"] == 'asks: got [], expected ["guests"]'
    assert first["f07-actions"] == ('actions: ["send_sms"] never ran '
                                    '(ran: ["check_availability", "book_table"])')
    assert first["f08-says"] == 'says_contains: no question contains "dessert"'
    assert all(len(r.problems) == 1 for r in results.values())
    assert "user: guests=2" in results["f01-value"].transcript_text()


async def test_a_list_of_replies_answers_the_same_question_in_turn(client, tmp_path):
    """`confirm: ["no, later", "yes"]`: the first read-back gets no, the next yes, without
    counting turns for `at_turn`."""
    text = """
agent: restaurant
cases:
  - id: l01
    first: guests=2 date=today time=12:00 name=Bo seating=inside
    replies: {confirm: ["no, later", "yes"], time: ["21:00"]}
    expect: {time: "21:00", asks: [time]}
"""
    case_file = load_case_file(write(tmp_path, "lists.yaml", text))
    results = await evaluate(client, [case_file], tz=UTC)
    results += await evaluate(client, [case_file], tz=UTC)  # played again: from the first
    assert [(r.passed, r.problems, r.turns) for r in results] == [(True, [], 4)] * 2
    transcript = [said for who, said in results[0].transcript if who == "user"]
    assert transcript[1:] == ["no, later", "21:00", "yes"]


def test_json_type_is_part_of_the_value():
    played = CaseResult("c", "c", "restaurant", outcome="final",
                        result={"guests": "4", "ok": 1, "share": 4.0})
    problems = check(Expect(guests=4, ok=True, share=4), played, date(2030, 1, 1), 8)
    assert problems == ['guests: got "4" (string), expected 4 (integer)',
                        "ok: got 1 (integer), expected true (boolean)"]


def test_relative_day_is_counted_from_the_start_day():
    played = CaseResult("c", "c", "restaurant", outcome="final",
                        result={"date": "2030-01-03", "note": "+1d"})
    assert check(Expect(date="+2d"), played, date(2030, 1, 1), 8) == []
    assert check(Expect(date="+1d"), played, date(2030, 1, 1), 8) == [
        'date: got "2030-01-03", expected "2030-01-02" (+1d)']


async def test_no_result_within_max_turns(client, tmp_path):
    text = CASES_YAML.replace("max_turns: 8", "max_turns: 3")
    case_file = load_case_file(write(tmp_path, "short.yaml", text))
    [played] = await evaluate(client, [case_file], tz=UTC, only=["p01-step-by-step"])
    assert played.turns == 3 and played.outcome is None
    assert played.problems[0] == "outcome: no final within 3 turns (max_turns 3)"
    assert played.problems[1].startswith("guests, date, time, name_contains, seating: no result")


async def test_an_http_error_fails_the_case(client, tmp_path):
    text = CASES_YAML.replace("at_turn: {2: \"can I talk to a person?\"}", "at_turn: {2: crash}")
    case_file = load_case_file(write(tmp_path, "crash.yaml", text))
    [played] = await evaluate(client, [case_file], tz=UTC, only=["p04"])
    assert played.turns == 2 and not played.passed
    assert played.problems[0] == 'http: 500 {"detail":"Internal error; logged."}'
    assert played.problems[1] == "outcome: none, expected handoff"


async def test_only_and_repeat(client, tmp_path):
    case_file = load_case_file(write(tmp_path, "restaurant.yaml", CASES_YAML))
    results = await evaluate(client, [case_file], tz=UTC, only=["p02", "p05-cancelled"],
                             repeat=2)
    assert [r.name for r in results] == ["p02-all-in-one#1", "p02-all-in-one#2",
                                         "p05-cancelled#1", "p05-cancelled#2"]
    assert all(r.passed for r in results)
    with pytest.raises(CaseFileError, match="--only: no case p99"):
        await evaluate(client, [case_file], tz=UTC, only=["p99"])


async def test_old_conversation_format(client, tmp_path):
    case_file = load_case_file(write(tmp_path, "old.json", OLD_FORMAT_JSON))
    assert case_file.agent == "cab-booking"
    assert case_file.cases[0].replies["pickup_location"] == "Whitefield"
    [played] = await evaluate(client, [case_file], tz=UTC)
    assert played.passed, played.problems
    assert played.asked == ["pickup_location", "destination", "date", "time", "preferences"]


async def test_old_play_function_for_the_benchmark(client):
    conversation = {"id": "c01", "first": "I need a cab", "replies": {
        "pickup": "MG Road", "destination": "Koramangala", "date": "today", "time": "09:00",
        "preferences": "sedan"}, "expect": {"pickup_location_contains": "mg road",
                                            "date": "+0d"}}
    played = await play(client, conversation, 8, UTC)
    assert played.passed and played.turns == 6 and played.turn_seconds


async def test_agent_override_and_unknown_agent(client, tmp_path):
    case_file = load_case_file(write(tmp_path, "restaurant.yaml", CASES_YAML))
    with pytest.raises(CaseFileError) as error:
        await evaluate(client, [case_file], tz=UTC, agent="bistro")
    assert str(error.value) == (f"{case_file.source}: unknown agent 'bistro' "
                                "(agents: restaurant, cab-booking)")


async def test_model_calls_unknown_without_metrics(tmp_path):
    case_file = load_case_file(write(tmp_path, "restaurant.yaml", CASES_YAML))
    async with await client_for(metrics_status=401) as client:
        results = await evaluate(client, [case_file], tz=UTC, only=["p02"])
    assert results[0].passed and results[0].model_calls is None
    assert summarize(results).calls_per_turn is None
    assert "model calls per user turn: -" in summarize(results).line()


async def test_api_key_is_sent(tmp_path):
    case_file = load_case_file(write(tmp_path, "restaurant.yaml", CASES_YAML))
    async with await client_for(api_key="secret") as client:
        [played] = await evaluate(client, [case_file], tz=UTC, only=["p02"], api_key="secret")
        assert played.passed and played.model_calls == 2
        with pytest.raises(CaseFileError, match="HTTP 401"):
            await evaluate(client, [case_file], tz=UTC, only=["p02"])
