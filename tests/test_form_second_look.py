"""A second, narrower look at a long message whose details the model's first answer left out:
asked for only the slots still empty, with the first look's prompt, and grounded like any other
answer (scripted extractor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_session.agent.second_look import fields_to_look_for, unsaid
from agent_session.agent.slots import Slot
from tests.fakes.scripted_llm import Again
from tests.helpers import form_agent
from tests.test_form_lists_and_skips import values
from tests.test_form_repairs import say

TABLES = str(Path(__file__).parent / "agents" / "tables.yaml")
CLEANING = """
name: cleaning
description: Books a home cleaning.
form:
  slots:
    - {name: address, description: the street address to clean, question: "What's the address?"}
    - {name: bedrooms, type: integer, min: 1, max: 8, question: "How many bedrooms?"}
    - {name: bathrooms, type: integer, min: 1, max: 5, question: "How many bathrooms?"}
    - {name: date, type: date, question: "Which day?"}
    - {name: time, type: time, question: "What time?"}
    - {name: notes, description: anything the cleaner should know, required: false,
       question: "Anything we should know?"}
"""
LONG = ("Hi, I need a cleaner at 14 Elm Road for a two bedroom, one bathroom flat tomorrow at "
        "9 am please")
FIRST = {"bedrooms": "two", "bathrooms": "one", "date": "tomorrow", "time": "9 am"}


@pytest.fixture
async def cleaning(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, CLEANING) as h:
        yield h


async def test_a_detail_the_first_look_left_out_is_found_by_the_second(cleaning):
    cleaning.llm.extend([FIRST, Again({"address": "14 Elm Road"})])
    body = (await cleaning.chat(LONG, session_id="t1")).json()
    assert body["asking"] == "notes", body
    assert len(cleaning.llm.second_looks) == 1
    second = cleaning.llm.second_looks[0]
    assert set(second.schema["properties"]) == {"address", "notes"}  # only the empty slots
    first = cleaning.llm.requests[-1]
    # The same prompt as the first look's, one line longer: the model has evaluated the rest.
    assert second.messages[:-1] == first.messages[:-1]
    assert second.messages[-1]["content"].startswith(first.messages[-1]["content"])
    assert (await values(cleaning)) == {"address": "14 Elm Road", "bedrooms": 2,
                                        "bathrooms": 1, "date": "2026-11-26", "time": "09:00"}
    metrics = (await cleaning.client.get("/metrics")).text
    assert "agent_llm_call_seconds_count" in metrics  # both looks are model calls, counted


async def test_what_the_second_look_guesses_is_still_grounded(cleaning):
    cleaning.llm.extend([FIRST, Again({"address": "22 Oak Avenue", "notes": "a dog"})])
    body = (await cleaning.chat(LONG, session_id="t1")).json()
    assert body["asking"] == "address" and body["query"] == "What's the address?"
    assert set(await values(cleaning)) == {"bedrooms", "bathrooms", "date", "time"}


async def test_a_second_look_never_takes_a_value_from_another_slot(cleaning):
    cleaning.llm.extend([FIRST, Again({"address": "tomorrow at 9 am"})])
    body = (await cleaning.chat(LONG, session_id="t1")).json()
    assert body["asking"] == "address"
    assert "address" not in await values(cleaning)


async def test_short_or_fully_read_messages_get_one_look(harness_factory):
    async with harness_factory(agent_file=TABLES, agent_strategy="form") as tables:
        await one_look_each(tables)


async def one_look_each(tables) -> None:
    await say(tables, "a table for six tomorrow at 8 pm",
              {"guests": "six", "date": "tomorrow", "time": "8 pm"})
    await say(tables, "It is for six people tomorrow at 8 pm, under the name Priya Raman",
              {"guests": "six", "date": "tomorrow", "time": "8 pm", "name": "Priya Raman"})
    assert tables.llm.second_looks == []


def test_the_words_no_slot_took():
    message = "Hi, I'd like to book a deep clean at 14 Elm Road for two bedrooms please"
    assert unsaid(message, ["two bedrooms"]) == ["deep", "clean", "14", "elm", "road"]
    empty = [Slot(name="address", description="street address", question="Where?")]
    assert fields_to_look_for(message, {"rooms": "two bedrooms"}, {}, empty) == ["address"]
    assert fields_to_look_for(message, {"rooms": "two bedrooms", "address": "14 Elm Road",
                                        "kind": "deep clean"}, {}, empty) == []
    assert fields_to_look_for("14 Elm Road", {}, {}, empty) == []  # short: one look is enough
    assert fields_to_look_for(message, {}, {}, []) == []  # nothing left to find


async def test_a_changed_count_goes_to_the_count_its_noun_names(cleaning):
    cleaning.llm.extend([FIRST, Again({"address": "14 Elm Road"})])
    await cleaning.chat(LONG, session_id="t1")
    await say(cleaning, "sorry, there are 2 bathrooms actually", {"bedrooms": "2"})
    known = await values(cleaning)
    assert (known["bedrooms"], known["bathrooms"]) == (2, 2)
