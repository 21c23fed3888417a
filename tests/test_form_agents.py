"""The form format is generic: a second agent (doctor's appointments) from a test directory,
with an action of its own loaded by import path; and the choice of strategy."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_session.agent.custom_actions import AgentFileError
from agent_session.config import Settings
from agent_session.llm.base import LLMReply
from agent_session.main import create_app
from agent_session.services import Overrides, build_services, strategy_name

from .conftest import make_settings, running
from .fakes.scripted_llm import ScriptedLLM, call

DOCTOR = Path(__file__).parent / "agents" / "doctor.yaml"


async def test_a_second_form_agent_books_with_its_own_action(harness_factory):
    async with harness_factory(agent_file=str(DOCTOR), agent_strategy="form") as h:
        h.llm.extend([{"doctor": "podiatrist", "day": "tomorrow"}])
        first = (await h.chat("a podiatrist tomorrow", session_id="d1")).json()
        assert first["query"] == "We have no podiatrist here. Which kind of doctor do you need?"
        h.llm.extend([{"doctor": "a dentist"}])
        second = (await h.chat("a dentist then", session_id="d1")).json()
        assert second["query"] == "What is the reason for the visit?"
        h.llm.extend([{"reason": "toothache"}])
        done = (await h.chat("a toothache", session_id="d1")).json()
        assert done["status_code"] == "200"
        assert done["final_response"] == {"doctor": "Dr. Rao", "day": "2026-11-26",
                                          "reason": "toothache"}
        tools = [m["name"] for m in (await h.client.get("/session/d1")).json()["messages"]
                 if m["role"] == "tool"]
        assert tools == ["find_doctor", "get_booking_date", "find_doctor"]
        # The agent's own examples and fields make its prompt.
        system = h.llm.requests[0].messages[0]["content"]
        assert "- doctor: the kind of doctor the user wants to see" in system
        assert h.llm.requests[0].messages[1]["content"].endswith(
            "Message: I'd like to see a dentist on Monday")


@pytest.mark.parametrize(("reject", "said"), [
    (None, "No podiatrist on duty."),  # no `reject`: the action's own error
    ("Sorry: {error}", "Sorry: No podiatrist on duty."),
])
async def test_a_refusal_says_the_action_s_own_error(harness_factory, tmp_path, reject, said):
    text = DOCTOR.read_text().replace("          reject: We have no {said} here.\n",
                                      f"          reject: '{reject}'\n" if reject else "")
    path = tmp_path / "doctor.yaml"
    path.write_text(text)
    async with harness_factory(agent_file=str(path), agent_strategy="form") as h:
        h.llm.extend([{"doctor": "podiatrist"}])
        first = (await h.chat("a podiatrist please", session_id="d1")).json()
        assert first["query"] == f"{said} Which kind of doctor do you need?"


async def test_the_custom_action_works_in_the_react_loop_too(harness_factory):
    async with harness_factory(agent_file=str(DOCTOR), agent_strategy="react") as h:
        h.llm.extend([[call("find_doctor", specialty="cardiologist")],
                      [call("prompt_user", question="Which day?")]])
        body = (await h.chat("I need a cardiologist")).json()
        assert body["query"] == "Which day?"
        observation = h.llm.requests[1].messages[-1].observation
        assert observation == {"doctor": {"name": "Dr. Mehta", "specialty": "cardiologist"}}


def test_a_missing_function_stops_start_up_with_a_clear_error(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(DOCTOR.read_text().replace("doctor_actions:find_doctor",
                                                 "doctor_actions:no_such_function"))
    with pytest.raises(AgentFileError, match="has no function 'no_such_function'"):
        build_services(make_settings(agent_file=str(broken)), Overrides(llm=ScriptedLLM()))
    broken.write_text(DOCTOR.read_text().replace("tests.agents.doctor_actions",
                                                 "tests.agents.missing_module"))
    with pytest.raises(AgentFileError, match="cannot be imported"):
        build_services(make_settings(agent_file=str(broken)), Overrides(llm=ScriptedLLM()))


def test_a_slot_must_be_a_result_field_resolved_by_the_agents_actions(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DOCTOR.read_text().replace("action: find_doctor", "action: search_places"))
    with pytest.raises(ValueError, match="search_places"):
        build_services(make_settings(agent_file=str(bad)), Overrides(llm=ScriptedLLM()))


class Named(ScriptedLLM):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def test_auto_is_form_on_the_embedded_model_and_react_elsewhere(tmp_path):
    definition = build_services(make_settings(),
                                Overrides(llm=ScriptedLLM())).agents.get(None).definition
    assert strategy_name("auto", Named("local"), definition) == "form"
    assert strategy_name("auto", Named("watsonx"), definition) == "react"
    assert strategy_name("react", Named("local"), definition) == "react"
    assert strategy_name("form", Named("watsonx"), definition) == "form"
    no_form = definition.model_copy(update={"form": None})
    assert strategy_name("auto", Named("local"), no_form) == "react"
    with pytest.raises(AgentFileError, match="needs a `form` section"):
        strategy_name("form", Named("local"), no_form)
    assert Settings(_env_file=None).agent_strategy == "auto"


async def test_auto_keeps_the_action_loop_on_a_remote_model():
    llm = Named("watsonx")
    llm.extend([LLMReply(actions=[call("prompt_user", question="Where from?")])])
    app = create_app(make_settings(), Overrides(llm=llm))
    async with running(app) as client:
        assert app.state.services.agents.get(None).strategy.name == "react"
        body = (await client.post("/chat", json={"query": "cab"})).json()
        assert body["query"] == "Where from?"


AGE_AGENT = """
name: ages
description: Takes a driver's age, checked by the agent's own action.
actions:
  - name: check_age
    function: age_actions:check_age
    description: Whether an age is covered.
    parameters: {type: object, properties: {age: {type: [integer, string]}}}
form:
  slots:
    - name: driver_age
      type: integer
      question: How old is the driver?
      resolve:
        - {action: check_age, arguments: {age: '{value}'}, value: age}
    - {name: notes, required: false, question: "Anything else?"}
"""


async def test_a_number_an_action_returns_keeps_the_slot_s_type(harness_factory, tmp_path):
    """An action that returns the age as 34 (or "34") gives the integer 34: the result is
    valid, never "Sorry, that didn't work"."""
    (tmp_path / "ages.yaml").write_text(AGE_AGENT)
    (tmp_path / "age_actions.py").write_text(
        "def check_age(arguments, ctx):\n"
        "    age = int(arguments['age'])\n"
        "    return {'age': age} if age >= 21 else {'error': 'Drivers must be 21.'}\n")
    async with harness_factory(agent_file=str(tmp_path / "ages.yaml"),
                               agent_strategy="form") as h:
        h.llm.extend([{"driver_age": "19"}, {"driver_age": "34"}])
        first = (await h.chat("19", session_id="a1")).json()
        assert first["query"] == "Drivers must be 21. How old is the driver?"
        await h.chat("34", session_id="a1")
        body = (await h.chat("skip", session_id="a1")).json()
        assert body["outcome"] == "final" and body["final_response"] == {"driver_age": 34,
                                                                          "notes": None}


TUTOR_AGENT = """
name: tutor
description: Books a lesson when the tutor is free.
actions:
  - name: tutor_free
    function: tutor_actions:tutor_free
    description: Whether the tutor is free on a day at a time.
    parameters: {type: object, properties: {day: {type: string}, at: {type: string}}}
form:
  slots:
    - {name: subject, type: choice, choices: [maths, physics], question: "Which subject?"}
    - {name: day, type: date, question: "Which day?"}
    - name: start
      type: time
      question: What time?
      resolve:
        - {action: tutor_free, arguments: {day: '{day}', at: '{value}'}, value: at}
"""


async def test_a_check_may_read_other_slots_values(harness_factory, tmp_path):
    """`{day}` in a resolve rule's arguments is the day slot's value: checks across slots."""
    (tmp_path / "tutor.yaml").write_text(TUTOR_AGENT)
    (tmp_path / "tutor_actions.py").write_text(
        "seen = []\n"
        "def tutor_free(arguments, ctx):\n"
        "    seen.append(dict(arguments))\n"
        "    if arguments['day'] == '2026-11-26' and arguments['at'] == '16:00':\n"
        "        return {'error': 'The tutor is busy then.'}\n"
        "    return {'at': arguments['at']}\n")
    async with harness_factory(agent_file=str(tmp_path / "tutor.yaml"),
                               agent_strategy="form") as h:
        h.llm.extend([{"subject": "maths", "day": "tomorrow", "start": "4 pm"},
                      {"start": "5 pm"}])
        first = (await h.chat("maths tomorrow at 4 pm", session_id="t1")).json()
        assert first["query"] == "The tutor is busy then. What time?"
        body = (await h.chat("then 5 pm please", session_id="t1")).json()
        assert body["final_response"] == {"subject": "maths", "day": "2026-11-26",
                                          "start": "17:00"}
        import tutor_actions  # the agent's own module, imported by the service
        assert tutor_actions.seen[0] == {"day": "2026-11-26", "at": "16:00"}
