"""Kinds of failure seen on two agents written from the README (a grooming salon, a cinema box
office): the model left "Name's Rachel Green" or "Rosie" out of a long first message; it took
"my cousins" from "make that 5 tickets, my cousins are coming too", "Hi" from "Hi, two
tickets" and "labradoodle" from "she's a 45 pound labradoodle" as names; "two in the
afternoon" answering the time also became two tickets; "One VIP ticket" was no count because
"VIP" was the seat's; "never mind, I'll sort it out myself" was not a cancel; a read-back
answered at length ("yes please, that's perfect") was read back again until the hand-off.
Scripted extractor; any agent with such slots."""

from __future__ import annotations

import pytest

from agent_session.agent.names import capitalised, could_be_name, is_person, said_name
from agent_session.agent.slots import Slot

from .helpers import form_agent
from .test_form_lists_and_skips import values
from .test_form_repairs import say

AGENT = """
name: salon
description: Books dogs in for a groom.
confirm: "A $service for $dog_name ($tickets) under $owner. Shall I book it?"
max_attempts: 3
form:
  slots:
    - name: service
      type: choice
      question: "Which service?"
      choices: [{value: bath}, {value: full groom, synonyms: [haircut]}]
    - {name: dog_name, description: the dog's own name, question: "What's your dog's name?"}
    - {name: tickets, type: integer, min: 1, max: 10, question: "How many dogs?"}
    - {name: owner, description: the owner's name, question: "What name should I use?"}
"""


@pytest.fixture
async def salon(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, AGENT) as h:
        yield h


def slot(name: str, kind: str = "text") -> Slot:
    return Slot(name=name, type=kind, question="?")


def test_which_slots_hold_a_person():
    assert [s for s in ("name", "guest_name", "owner", "patient", "full_name", "booking_name")
            if is_person(slot(s))] == ["name", "guest_name", "owner", "patient", "full_name",
                                       "booking_name"]
    assert not any(is_person(slot(s)) for s in ("dog_name", "film_name", "notes", "vehicle",
                                                "parent_email", "customer_phone", "owner_age"))
    assert is_person(slot("contact_person"))
    assert all(is_person(slot(s)) for s in ("sender_name", "employee_name", "student_name",
                                            "lead_name", "driver", "recipient"))
    assert not any(is_person(slot(s)) for s in ("account", "lead", "pet_name", "item_name"))
    assert not is_person(slot("name", "date"))


@pytest.mark.parametrize(("message", "name"), [
    ("a full groom tomorrow at 10 am. Name's Rachel Green, and yes please", "Rachel Green"),
    ("this is Maria Lopez, I'd like a bath", "Maria Lopez"),
    ("my name is dev desai and I need two", "dev desai"),
    ("put it under the name Okafor please", "Okafor"),
    ("I'm Sam, can Rex come in", "Sam"),
    ("I'm looking for two tickets", None),  # "this is", "I'm": only a capitalised name
    ("It's Friday I want", None),
    ("this is for two dogs", None),
    ("my name is Ann, this is Bob", None),  # two names: not guessed
])
def test_a_name_the_user_introduces_is_found(message, name):
    assert said_name(message) == name


@pytest.mark.parametrize(("words", "name"), [
    ("Hi", False), ("yes please", False), ("my cousins", False), ("the kids", False),
    ("Dana Whitfield", True), ("my wife Sarah", True), ("the Smiths", True), ("okafor", True)])
def test_words_that_cannot_be_a_name(words, name):
    assert could_be_name(words) is name


async def test_a_name_the_model_left_out_of_a_long_message_is_taken(salon):
    body = await say(salon, "A haircut for my doodle Biscuit, two dogs. Name's Rachel Green.",
                     {"service": "haircut", "dog_name": "Biscuit", "tickets": "two"})
    assert body["outcome"] == "confirm"
    assert (await values(salon))["owner"] == "Rachel Green"


async def test_a_dog_s_name_is_not_the_owner_s(salon):
    """"for Biscuit" names the dog; only an introduction names the person."""
    body = await say(salon, "A bath for Biscuit", {"service": "bath", "dog_name": "Biscuit"})
    assert body["asking"] == "tickets"
    assert "owner" not in await values(salon)


async def test_words_that_are_no_name_are_not_the_name(salon):
    body = await say(salon, "Hi, a bath for Rex, one dog",
                     {"service": "bath", "dog_name": "Rex", "tickets": "one", "owner": "Hi"})
    assert body["asking"] == "owner"
    body = await say(salon, "sorry, make that 2 dogs, my cousins are coming too",
                     {"tickets": "2", "owner": "my cousins"})
    assert body["asking"] == "owner"
    known = await values(salon)
    assert known["tickets"] == 2 and "owner" not in known


@pytest.mark.parametrize(("answer", "outcome"), [
    ("yes please, that's perfect thank you", "final"),
    ("no, that is not right at all", "question")])
async def test_a_long_answer_to_the_read_back_is_its_yes_or_no(salon, answer, outcome):
    await say(salon, "A bath for Rex, one dog, under Ann Lee",
              {"service": "bath", "dog_name": "Rex", "tickets": "one", "owner": "Ann Lee"})
    body = await say(salon, answer, {"service": "bath", "dog_name": "Rex"})
    assert body["outcome"] == outcome
    if outcome == "question":
        assert body["query"] == "What would you like to change?"


def test_the_one_capitalised_name_of_a_message():
    message = ("Hey, it's 555-0147 calling. I'd like to get Rosie, my 35 lb cocker spaniel, in "
               "for a haircut the day after tomorrow")
    assert capitalised(message, ["haircut"]) == "Rosie"
    assert capitalised("A room at the Hilton for Wen Zhao", []) == "Wen Zhao"  # not a place
    assert capitalised("Tickets for Paper Tigers on Friday", ["Paper Tigers"]) is None
    assert capitalised("Baths please. Tomorrow, for Rex", []) == "Rex"  # a sentence's first
    assert capitalised("a bath for Rex and Bella", []) is None  # two: not guessed


async def test_a_pet_s_name_the_model_left_out_is_taken(salon):
    body = await say(salon, "Hi, this is Ann Lee. I'd like to get Rosie, my spaniel, in for a "
                     "haircut, 2 dogs", {"service": "haircut", "tickets": "2"})
    assert body["outcome"] == "confirm"
    known = await values(salon)
    assert (known["dog_name"], known["owner"]) == ("Rosie", "Ann Lee")


async def test_a_word_written_in_lower_case_is_no_name_the_user_capitalises(salon):
    body = await say(salon, "Full groom please, she's a labradoodle.",
                     {"service": "full groom", "dog_name": "Labradoodle"})
    assert body["asking"] == "dog_name"
    body = await say(salon, "maple", {"dog_name": "maple"})  # the answer to the question
    assert body["asking"] == "tickets"


async def test_a_count_beside_a_choice_word_is_the_count(salon):
    body = await say(salon, "Two bath tickets for Rex please", {"service": "bath",
                                                                 "dog_name": "Rex"})
    assert body["asking"] == "owner"
    assert (await values(salon))["tickets"] == 2


@pytest.mark.parametrize(("message", "outcome"), [
    ("you know what, never mind, I'll sort it out myself", "cancelled"),
    ("no no, don't cancel anything", "question")])
async def test_a_cancel_the_model_missed(salon, message, outcome):
    await say(salon, "A bath for Rex", {"service": "bath", "dog_name": "Rex"})
    body = await say(salon, message, {})
    assert body["outcome"] == outcome
