"""Kinds of failure seen on two more agents written from the README (a pharmacy, a bike rental):
a date of birth kept as patterned text ("30th of November 1984") also filled the pickup day;
"sorry, make that Thursday June 17th 2027 instead" given by the model to the empty date of
birth instead of the pickup day it changes; a correction copied whole into the slot asked
beside the slot it changes; "make it e-bikes instead" given to both the bike and the hours
asked, and kept for the hours; "prescription number 903 417" missed; "make that 1 pm
instead" given to the yes/no asked; "for my daughter" as the patient's name; "doesn't matter
to us" not a skip; "two e-bikes instead of the tandem" losing the two. Scripted extractor; any
agent with such slots."""

from __future__ import annotations

import pytest

from .helpers import form_agent
from .test_form_lists_and_skips import values
from .test_form_repairs import say

AGENT = r"""
name: refill
description: Refills prescriptions.
form:
  slots:
    - {name: patient, description: the patient's full name, question: "Patient's name?"}
    - name: dob
      description: the patient's date of birth
      pattern: '.*\b(?:19|20)\d\d\b.*'
      question: "Date of birth?"
    - {name: branch, type: choice, choices: [Elm Street, Oak Park], question: "Which branch?"}
    - {name: day, type: date, question: "Which day?"}
    - {name: hours, type: number, min: 1, max: 8, question: "How many hours?"}
    - {name: rx, pattern: 'RX ?\d{6}|\d{3} ?\d{3}', question: "Prescription number?"}
    - {name: text_me, type: boolean, required: false, question: "Shall we text you?"}
"""


@pytest.fixture
async def refill(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, AGENT) as h:
        yield h


async def test_a_date_inside_patterned_text_is_not_another_slot_s(refill):
    await say(refill, "Ann Lee", {"patient": "Ann Lee"})
    body = await say(refill, "30th of November 1984", {"dob": "30th of November 1984"})
    assert body["asking"] == "branch"
    known = await values(refill)
    assert known["dob"] == "30th of November 1984" and "day" not in known


async def test_a_change_given_to_an_empty_free_text_slot_goes_to_the_slot_it_changes(refill):
    await say(refill, "for Oak Park tomorrow please", {"branch": "Oak Park", "day": "tomorrow"})
    body = await say(refill, "sorry, make that Thursday June 17th 2027 instead, I'm busy "
                     "tomorrow", {"dob": "Thursday June 17th 2027", "day": "tomorrow"})
    assert body["asking"] == "patient"
    known = await values(refill)
    assert known["day"] == "2027-06-17" and "dob" not in known


async def test_a_correction_copied_into_the_slot_asked_is_no_answer(refill):
    await say(refill, "Ann Lee, Oak Park", {"patient": "Ann Lee", "branch": "Oak Park"})
    message = "oh wait, actually make it the Elm Street one"
    body = await say(refill, message, {"dob": message, "branch": "Elm Street"})
    assert body["asking"] == "dob"
    known = await values(refill)
    assert known["branch"] == "Elm Street" and "dob" not in known


async def test_words_given_to_two_slots_go_to_the_one_whose_type_reads_them(refill):
    await say(refill, "Ann Lee, born 1970, Elm Street tomorrow",
              {"patient": "Ann Lee", "dob": "born 1970", "branch": "Elm Street",
               "day": "tomorrow"})
    body = await say(refill, "oh actually make it Oak Park instead",
                     {"branch": "Oak Park", "hours": "Oak Park"})
    assert body["asking"] == "hours" and "isn't" not in body["query"]
    assert (await values(refill))["branch"] == "Oak Park"


ALL = {"patient": "Ann Lee", "dob": "born 1970", "branch": "Elm Street", "day": "tomorrow",
       "hours": "2 hours", "rx": "RX 123456"}
ALL_SAID = "Ann Lee, born 1970, Elm Street tomorrow, 2 hours, RX 123456"


async def test_a_patterned_value_the_model_missed_is_found(refill):
    body = await say(refill, "for Ann Lee, prescription number 903 417", {"patient": "Ann Lee"})
    assert body["asking"] == "dob"
    assert (await values(refill))["rx"] == "903 417"


async def test_a_change_given_to_the_yes_no_asked_goes_to_the_slot_it_changes(refill):
    body = await say(refill, ALL_SAID, ALL)
    assert body["asking"] == "text_me"
    body = await say(refill, "ah sorry, make that the day after tomorrow instead",
                     {"text_me": "make that the day after tomorrow instead"})
    assert body["asking"] == "text_me" and "yes or" not in body["query"]
    assert (await values(refill))["day"] == "2026-11-27"


async def test_who_a_person_is_is_not_their_name(refill):
    body = await say(refill, "a refill for my daughter", {"patient": "daughter"})
    assert body["asking"] == "patient"


@pytest.mark.parametrize("answer", ["doesn't matter to us", "whatever", "up to you",
                                    "we don't mind either way"])
async def test_more_ways_to_skip(refill, answer):
    await say(refill, ALL_SAID, ALL)
    body = await say(refill, answer, None)
    assert body["outcome"] == "final" and body["final_response"]["text_me"] is None


async def test_a_swap_keeps_the_count_said_with_it(refill):
    await say(refill, ALL_SAID, ALL)
    body = await say(refill, "could we do 3 hours at Oak Park instead of Elm Street",
                     {"hours": "3 hours", "branch": "Oak Park"})
    assert body["asking"] == "text_me"
    known = await values(refill)
    assert (known["hours"], known["branch"]) == (3, "Oak Park")


def test_a_count_before_a_possessive_noun():
    from agent_session.agent.slots import Slot
    from agent_session.agent.typed_finder import count_phrase

    slot = Slot(name="bikes", type="integer", question="How many bikes?")
    assert count_phrase(slot, "one kids' bike for Friday") == "one kids' bike"


async def test_a_patterned_value_the_model_gave_another_free_text_slot_is_the_pattern_s(
        refill):
    body = await say(refill, "for Ann Lee, number 903 417 please",
                     {"patient": "Ann Lee", "dob": "903 417"})
    assert body["asking"] == "dob"
    known = await values(refill)
    assert known["rx"] == "903 417" and "dob" not in known



async def test_the_same_number_said_twice_fills_two_slots(harness_factory, tmp_path):
    rooms = """
name: rooms
form:
  slots:
    - {name: bedrooms, type: integer, question: "How many bedrooms?"}
    - {name: bathrooms, type: integer, question: "How many bathrooms?"}
    - {name: name, question: "Your name?"}
"""
    async with form_agent(harness_factory, tmp_path, rooms) as h:
        body = await say(h, "a 2 bed, 2 bath flat", {"bedrooms": "2", "bathrooms": "2"})
        assert body["asking"] == "name"
        known = await values(h)
        assert (known["bedrooms"], known["bathrooms"]) == (2, 2)
