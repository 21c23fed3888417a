"""Typed slots, repairs, confirmation and hand-off on an agent of another domain
(`tests/agents/tables.yaml`), with a scripted extractor: each model turn is one JSON answer;
everything after it is the service's own."""

from __future__ import annotations

from pathlib import Path

import pytest

AGENT = str(Path(__file__).parent / "agents" / "tables.yaml")
ASK = {"guests": "How many people?", "date": "Which day?", "time": "What time?",
       "name": "Under what name?", "seating": "Indoors or on the patio?"}


@pytest.fixture
async def tables(harness_factory):
    async with harness_factory(agent_file=AGENT, agent_strategy="form") as h:
        yield h


async def say(h, query: str, extracted: dict | None = None, session_id: str = "t1") -> dict:
    """One user turn; `extracted` is the model's answer (None: no model call is expected)."""
    calls = len(h.llm.requests)
    if extracted is not None:
        h.llm.extend([extracted])
    response = await h.chat(query, session_id=session_id)
    assert response.status_code == 200, response.text
    assert len(h.llm.requests) == calls + (extracted is not None), "model calls"
    return response.json()


async def fill_up_to_name(h) -> None:
    await say(h, "a table for six tomorrow at 8 pm",
              {"guests": "six", "date": "tomorrow", "time": "8 pm"})


async def test_number_words_the_model_wrote_as_digits_are_kept(tables):
    body = await say(tables, "a table for six tomorrow at 8 pm",
                      {"guests": "6", "date": "tomorrow", "time": "8 pm"})
    assert (body["asking"], body["query"], body["outcome"]) == ("name", ASK["name"], "question")
    body = await say(tables, "Priya Raman", {"name": "Priya Raman"})
    assert body["asking"] == "seating"
    body = await say(tables, "outside please", None)  # a short typed answer: no model call
    assert body["outcome"] == "confirm" and body["asking"] is None
    assert body["query"] == ("A table for 6 on 2026-11-26 at 20:00 under Priya Raman, seating "
                             "patio. Shall I book it?")
    body = await say(tables, "yes", None)
    assert body["status_code"] == "200" and body["outcome"] == "final"
    assert body["final_response"] == {"guests": 6, "date": "2026-11-26", "time": "20:00",
                                      "name": "Priya Raman", "seating": "patio"}


async def test_a_number_the_user_never_said_is_not_taken(tables):
    body = await say(tables, "a table tomorrow", {"guests": "4", "date": "tomorrow"})
    assert body["asking"] == "guests"


async def test_out_of_bounds_is_refused_with_the_reason_then_hand_off(tables):
    body = await say(tables, "we are twenty people", {"guests": "twenty"})
    assert body["query"] == f"20 is too many: the most is 12. {ASK['guests']}"
    body = await say(tables, "fifteen", None)
    assert body["asking"] == "guests" and body["outcome"] == "question"
    body = await say(tables, "thirty", None)
    assert (body["outcome"], body["query"]) == ("handoff", "Let me pass you to our host.")
    text = (await tables.client.get("/metrics")).text
    assert 'agent_turns_total{outcome="handoff"} 1.0' in text
    body = await say(tables, "a table for two", {"guests": "two"})  # a new task
    assert body["asking"] == "date"


async def test_a_correction_said_while_the_name_is_asked_goes_to_its_slot(tables):
    await fill_up_to_name(tables)
    body = await say(tables, "sorry, make it 8:30 pm instead", {"name": "8:30 pm"})
    assert body["asking"] == "name"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["time"] == "20:30" and "name" not in state["values"]


async def test_instead_of_replaces_the_slot_that_held_the_old_words(tables):
    await fill_up_to_name(tables)
    body = await say(tables, "no wait, make that seven instead of six", {"name": "seven"})
    assert body["asking"] == "name"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["guests"] == 7 and "name" not in state["values"]


async def test_a_shortened_date_phrase_is_taken_whole(tables):
    body = await say(tables, "six of us the day after tomorrow at 8 pm",
                      {"guests": "six", "date": "tomorrow", "time": "8 pm"})
    assert body["asking"] == "name"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["date"] == "2026-11-27"


@pytest.mark.parametrize(("message", "date"), [
    ("table for two tomorrow at 8 pm", "2026-11-26"),  # the count is not the date's
    ("table for six in two days at 8 pm", "2026-11-27")])
async def test_a_number_before_a_date_is_the_date_s_only_before_days(tables, message, date):
    count = "two" if "for two" in message else "six"
    model_date = "tomorrow" if "tomorrow" in message else "days"
    body = await say(tables, message, {"guests": count, "date": model_date, "time": "8 pm"})
    assert body["asking"] == "name"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert (state["values"]["date"], state["values"]["guests"]) == (date, 2 if count == "two"
                                                                    else 6)


async def test_a_bare_hour_is_asked_back_never_refused(tables):
    body = await say(tables, "four people tomorrow at 9.",
                      {"guests": "four", "date": "tomorrow", "time": "9."})
    assert (body["asking"], body["query"]) == (
        "time", "Is that 9 in the morning or 9 in the evening?")
    body = await say(tables, "in the evening", None)
    assert body["asking"] == "name"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["time"] == "21:00"


async def test_contradicting_words_are_asked_back(tables):
    body = await say(tables, "two people tomorrow at 7am evening",
                      {"guests": "two", "date": "tomorrow", "time": "7am evening"})
    assert body["asking"] == "time" and "7" in body["query"]
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert "time" not in state["values"]


async def test_a_time_today_that_has_passed_is_refused(tables):
    # The clock stands at 15:30 in Asia/Kolkata.
    body = await say(tables, "two people today at 9 am",
                      {"guests": "two", "date": "today", "time": "9 am"})
    assert body["query"] == f"09:00 today has already passed. {ASK['time']}"


async def test_skip_an_optional_slot_and_repeat_a_question(tables):
    await fill_up_to_name(tables)
    body = await say(tables, "sorry?", None)
    assert (body["asking"], body["query"]) == ("name", ASK["name"])
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    body = await say(tables, "no preference", None)
    assert body["outcome"] == "confirm" and "seating none" in body["query"]
    body = await say(tables, "yes please", None)
    assert body["final_response"]["seating"] is None
    assert body["final_response"]["guests"] == 6


async def test_confirmation_no_then_a_correction_reads_back_again(tables):
    await fill_up_to_name(tables)
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    await say(tables, "inside", None)
    body = await say(tables, "no", None)
    assert (body["outcome"], body["query"]) == ("question", "What would you like to change?")
    body = await say(tables, "make it 9 pm", {"time": "9 pm"})
    assert body["outcome"] == "confirm" and "at 21:00" in body["query"]
    body = await say(tables, "actually two people", {"guests": "two"})
    assert body["outcome"] == "confirm" and "for 2 " in body["query"]
    body = await say(tables, "yes", None)
    assert body["final_response"]["time"] == "21:00"
    assert body["final_response"]["guests"] == 2


@pytest.mark.parametrize("message", [
    "can I talk to a human?", "could I speak to a pharmacist please",
    "just put me through to the front desk"])
async def test_a_user_may_ask_for_a_person(tables, message):
    await fill_up_to_name(tables)
    body = await say(tables, message, None)
    assert body["outcome"] == "handoff"


def test_speaking_of_someone_is_no_request_for_a_person():
    from agent_session.agent.repairs import wants_person

    assert not wants_person("I want to speak with the doctor about my knee")


async def test_a_choice_by_synonym_or_misspelt(tables):
    await fill_up_to_name(tables)
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    body = await say(tables, "teh terace", None)
    assert body["outcome"] == "confirm" and "seating patio" in body["query"]


async def test_a_value_outside_the_choices_is_refused(tables):
    await fill_up_to_name(tables)
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    body = await say(tables, "on the roof", {"seating": "the roof"})
    assert body["asking"] == "seating"
    assert body["query"].startswith("\u201cthe roof\u201d isn't one of the options: indoors or "
                                    "patio.")


async def test_an_option_named_word_for_word_is_taken_when_the_model_misses_it(tables):
    await fill_up_to_name(tables)
    body = await say(tables, "Sam Lee, and we'd like the terrace", {"name": "Sam Lee"})
    assert body["outcome"] == "confirm" and "seating patio" in body["query"]


async def test_words_the_model_gave_a_slot_not_asked_and_unreadable_are_dropped(tables):
    body = await say(tables, "I want a table for home", {"date": "home"})
    assert (body["asking"], body["query"]) == ("guests", ASK["guests"])  # no argument about it


async def test_a_correction_said_beside_an_answer_is_not_lost(tables):
    await fill_up_to_name(tables)
    body = await say(tables, "Sam Lee. Oh, and actually make it 8:45 pm instead",
                     {"name": "Sam Lee"})
    assert body["asking"] == "seating"
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["time"] == "20:45" and state["values"]["name"] == "Sam Lee"


async def test_x_not_y_replaces_y(tables):
    await fill_up_to_name(tables)
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    await say(tables, "inside", None)
    body = await say(tables, "hold on, seven people, not six", {})
    assert body["outcome"] == "confirm" and "for 7 " in body["query"]


async def test_skip_words_with_thanks(tables):
    await fill_up_to_name(tables)
    await say(tables, "Sam Lee", {"name": "Sam Lee"})
    body = await say(tables, "none at all, thanks", None)
    assert body["outcome"] == "confirm" and "seating none" in body["query"]


async def test_a_correction_the_model_took_is_not_read_again_by_another_slot(tables):
    """"change the time to 9 pm": the model gives the time; the 9 is not also a count."""
    await fill_up_to_name(tables)
    body = await say(tables, "actually change the time to 9 pm", {"time": "9 pm"})
    state = (await tables.client.get("/session/t1")).json()["messages"][-1]["form"]
    assert state["values"]["time"] == "21:00" and state["values"]["guests"] == 6
    assert body["asking"] == "name"
