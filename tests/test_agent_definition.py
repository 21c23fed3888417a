"""The system prompt is built from the registry; `AGENT_FILE` replaces the bundled agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from agent_session.agent.actions import ActionContext, ActionRegistry
from agent_session.agent.definition import load_definition
from agent_session.prompts import SystemPrompt

from .fakes.scripted_llm import call


async def test_prompt_lists_registry_actions_and_rules(harness):
    harness.llm.extend([[call("prompt_user", question="Where from?")]])
    await harness.chat("cab", user_id="12345")
    request = harness.llm.requests[0]
    prompt = request.system_prompt
    for name in ("search_places", "get_booking_date", "get_user_address", "prompt_user",
                 "final_answer"):
        assert f"- {name}(" in prompt
    assert "search_places(text_query: string (the place as the user said it))" in prompt
    assert "address_type: home|office" in prompt and "user_id: string or null" in prompt
    assert "never invent" in prompt and "Today is Wednesday 2026-11-25 (Asia/Kolkata)" in prompt
    assert [a["name"] for a in request.actions] == ["search_places", "get_booking_date",
                                                    "get_user_address", "prompt_user",
                                                    "final_answer"]
    final = request.actions[-1]["parameters"]
    assert set(final["required"]) == {"pickup_location", "destination", "date", "time",
                                      "preferences"}


async def test_agent_file_overrides_prompt_actions_and_result(harness_factory, tmp_path):
    agent = {
        "name": "greeter",
        "system_prompt": "You greet people. $user\nActions:\n$actions",
        "actions": ["prompt_user", "final_answer"],
        "result_schema": {"type": "object", "required": ["greeting"],
                          "properties": {"greeting": {"type": "string"}},
                          "additionalProperties": False},
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(agent))
    async with harness_factory(agent_file=str(path)) as h:
        h.llm.extend([[call("search_places", text_query="x")],
                      [call("final_answer", greeting="hello")]])
        body = (await h.chat("hi")).json()
        assert body["final_response"] == {"greeting": "hello"}
        request = h.llm.requests[0]
        assert request.system_prompt.startswith("You greet people.")
        assert "search_places" not in request.system_prompt
        assert "no action named 'search_places'" in h.llm.requests[1].messages[-1].content


def test_prompt_follows_the_local_date_and_the_user():
    """Rendered once per (user, local day): the date turns at local midnight, not UTC's."""
    prompt = SystemPrompt(load_definition(), ActionRegistry([]), ZoneInfo("Asia/Kolkata"))
    before = datetime(2026, 11, 25, 18, 29, tzinfo=UTC)  # 23:59 in Kolkata
    after = datetime(2026, 11, 25, 18, 31, tzinfo=UTC)  # 00:01 on the 26th in Kolkata
    assert "2026-11-25" in prompt(ActionContext("s", "u1", before))
    assert "2026-11-26" in prompt(ActionContext("s", "u1", after))
    assert "2026-11-25" in prompt(ActionContext("s", "u1", before))
    assert "u2" in prompt(ActionContext("s", "u2", after))
    assert "No user is known" in prompt(ActionContext("s", None, after))


def test_example_values_may_be_written_as_yaml_numbers_and_booleans():
    """A user wrote `known: {guests: 2}`; the model is shown the words they stand for."""
    from agent_session.agent.slots import Example

    example = Example.model_validate({"message": "two of us, with breakfast",
                                      "known": {"guests": 2, "nights": 3.5},
                                      "extract": {"breakfast": True, "late": False}})
    assert example.known == {"guests": "2", "nights": "3.5"}
    assert example.extract == {"breakfast": "yes", "late": "no"}


def test_an_agent_file_is_read_as_yaml_1_2(tmp_path):
    """`10:00` stays a time and `no` a word (YAML 1.1 reads 600 and false)."""
    path = tmp_path / "spa.yaml"
    path.write_text("""
name: spa
form:
  slots:
    - {name: time, type: time, question: When}
    - {name: robe, type: choice, choices: [yes, no, later], question: A robe}
  examples:
    - message: at ten
      known:
        time: 10:00
      extract: {time: at ten}
""")
    definition = load_definition(path)
    assert definition.form.examples[0].known == {"time": "10:00"}
    assert [c.value for c in definition.form.slots[1].choices] == ["yes", "no", "later"]
