"""Case files: both formats read, YAML read as 1.2, and every kind of bad input refused with one
line naming the file, the case and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent_session.eval import AgentInfo, CaseFileError, check_against, load_case_file

from .test_eval_fake import AGENTS, CASES_YAML

ROOT = Path(__file__).resolve().parents[1]
RESTAURANT = AgentInfo.from_json(AGENTS["restaurant"])


def write(tmp_path: Path, text: str, name: str = "cases.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, name: str = "cases.yaml") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(CaseFileError) as error:
        check_against(load_case_file(path), RESTAURANT)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_yaml_values_keep_their_json_types(tmp_path):
    case_file = load_case_file(write(tmp_path, """\
agent: restaurant
cases:
  - id: t1
    first: hi
    replies: {guests: 4, confirm: no, other: yes}
    at_turn: {"2": "later"}
    expect: {guests: 4, time: 17:00, date: 2027-01-15, name: "007", seating: window}
"""))
    case = case_file.cases[0]
    assert case.replies == {"guests": "4", "confirm": "no", "other": "yes"}
    assert case.at_turn == {2: "later"}
    assert case.expect.fields == {"guests": 4, "time": "17:00", "date": "2027-01-15",
                                  "name": "007", "seating": "window"}
    assert case.expect.outcome == "final" and case_file.max_turns == 8


def test_the_documented_example_is_valid(tmp_path):
    """The README's complete case-file example reads, and fits the agent it describes."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Test your own agent", 1)[1]
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    case_file = load_case_file(write(tmp_path, example))
    assert case_file.agent == "restaurant-booking" and len(case_file.cases) >= 3
    check_against(case_file, AgentInfo("restaurant-booking", RESTAURANT.slots,
                                       RESTAURANT.result_fields))


@pytest.mark.parametrize("text, problem", [
    ("agent: restaurant\ncases:\n  - id: a\n    first: [unclosed\n",
     "invalid YAML at line 5 column 1: expected ',' or ']'"),
    ("agent: restaurant\ncases:\n  - id: a\n    replies: {other: yes}\n",
     "case a: first: Field required"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi}\n  - {id: a, first: ho}\n",
     "case a: duplicate id"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, expects: {guests: 2}}\n",
     "case a: expects: unknown key"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, expect: {outcome: done}}\n",
     "case a: expect.outcome: Input should be 'final', 'handoff' or 'cancelled'"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, at_turn: {1: hello}}\n",
     "case a: at_turn: turn 1: turn 1 is `first`, at_turn starts at 2"),
    ("agent: restaurant\ncases: []\n", "cases: List should have at least 1 item"),
    ("- just a list\n", "the file must hold a mapping"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, replies: {guest: 2}}\n",
     "case a: replies.guest: agent restaurant has no slot 'guest' (slots: guests, date, time,"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, expect: {asks: [guests, table]}}\n",
     "case a: expect.asks: agent restaurant has no slot 'table'"),
    ("agent: restaurant\ncases:\n  - {id: a, first: hi, expect: {price_contains: 5}}\n",
     "case a: expect.price_contains: the result of agent restaurant has no field 'price'"),
])
def test_bad_input_is_one_line(tmp_path, text, problem):
    assert problem in error_of(tmp_path, text)


def test_bad_json(tmp_path):
    assert error_of(tmp_path, '{"agent": "restaurant",', "cases.json").startswith(
        "invalid JSON at line 1 column 24")


def test_missing_file(tmp_path):
    with pytest.raises(CaseFileError, match="nope.yaml: cannot read"):
        load_case_file(tmp_path / "nope.yaml")


def test_a_case_without_id_is_named_by_position(tmp_path):
    assert error_of(tmp_path, "agent: restaurant\ncases:\n  - {first: hi}\n") == \
        "case #1: id: Field required"


def test_the_test_cases_are_valid(tmp_path):
    check_against(load_case_file(write(tmp_path, CASES_YAML)), RESTAURANT)


def cab_agent() -> AgentInfo:
    """The bundled cab agent as GET /agents/cab-booking describes it: its form slots and its
    result schema."""
    data = yaml.safe_load((ROOT / "agent_session/data/cab_agent.yaml").read_text())
    return AgentInfo(name=data["name"], slots=[s["name"] for s in data["form"]["slots"]],
                     result_fields=list(data["result_schema"]["properties"]))


@pytest.mark.parametrize("old, new", [("cab_public.json", "cab-booking.public.yaml"),
                                      ("cab_holdout.json", "cab-booking.holdout.yaml")])
def test_converted_cab_files_hold_the_same_cases(old, new):
    before = load_case_file(ROOT / "conversations" / old)
    after = load_case_file(ROOT / "conversations" / new)
    assert after.agent == before.agent == "cab-booking"
    assert after.max_turns == before.max_turns
    assert [c.model_dump() for c in after.cases] == [c.model_dump() for c in before.cases]
    for case_file in (before, after):
        check_against(case_file, cab_agent())
    assert all("pickup" not in c.replies for c in after.cases)
