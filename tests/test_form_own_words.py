"""Kinds of failure from a courier, a tutoring and a vet agent written from the README alone,
with a scripted extractor: a yes/no said in the slot's own words, a correction whose new words
hold commas, a cancel said with "actually", a person's email that is no name, a postcode's
digits that are no count, a number in a unit, "my girl", a free-text answer the model did not
copy."""

from __future__ import annotations

import pytest

from tests.helpers import form_agent
from tests.test_form_lists_and_skips import values
from tests.test_form_repairs import say

VET = """
name: vet
description: Books a vet visit.
form:
  slots:
    - {name: owner_name, question: "Your name?"}
    - {name: parent_email, pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.]+', question: "Your email?"}
    - {name: pickup_address, description: where we collect the pet, question: "Address?"}
    - {name: pets, type: integer, min: 1, max: 4, question: "How many pets?"}
    - {name: urgent, type: boolean, question: "Is it urgent?"}
    - {name: notes, required: false, question: "Anything else?"}
    - {name: weight_kg, type: number, max: 70, required: false,
       description: the total weight of all the pets together in kilograms,
       question: "How heavy?"}
    - {name: time, type: time, required: false, question: "What time?"}
"""


@pytest.fixture
async def vet(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, VET) as h:
        yield h


@pytest.mark.parametrize(("said", "urgent", "notes"), [
    ("It's not urgent.", False, None),  # the yes/no's words are not also the notes
    ("It isn't urgent at all.", False, None),
    ("It's quite urgent, she's limping.", True, "It's quite urgent, she's limping.")])
async def test_a_yes_no_said_in_the_slot_s_own_words_is_read(vet, said, urgent, notes):
    message = f"Hi, this is Maria Gonzalez, email maria.g@example.com. {said}"
    await say(vet, message, {"owner_name": "Maria Gonzalez", "notes": said})
    known = await values(vet)
    assert known["urgent"] is urgent
    assert known.get("notes") == notes  # notes that say more than the yes/no stay
    assert known["parent_email"] == "maria.g@example.com"  # a person's email is no name


async def test_a_yes_no_question_answered_with_its_own_word(vet):
    await say(vet, "Maria Gonzalez", {"owner_name": "Maria Gonzalez"})
    await say(vet, "maria.g@example.com", {"parent_email": "maria.g@example.com"})
    await say(vet, "12 Elm Road", {"pickup_address": "12 Elm Road"})
    await say(vet, "two", None)
    body = await say(vet, "very urgent", None)
    assert body["asking"] == "notes" and (await values(vet))["urgent"] is True


async def test_a_correction_with_commas_replaces_the_whole_value(vet):
    await say(vet, "Maria Gonzalez", {"owner_name": "Maria Gonzalez"})
    await say(vet, "maria.g@example.com", {"parent_email": "maria.g@example.com"})
    await say(vet, "5 Silver Street, Bury BL9 0EU", {"pickup_address": "5 Silver Street, Bury"})
    # The model reads a count from the postcode ("1LW") and a time from the house number: the
    # postcode says no number, and the new address replaces the old.
    body = await say(vet, "sorry, the pickup is at 30 Drake Street, Rochdale OL16 1LW, not Bury",
                     {"pets": "1 pet"})
    assert body["asking"] == "pets"
    known = await values(vet)
    assert known["pickup_address"] == "30 Drake Street, Rochdale OL16 1LW"
    assert "pets" not in known


async def test_actually_never_mind_cancels(vet):
    await say(vet, "Maria Gonzalez", {"owner_name": "Maria Gonzalez"})
    body = await say(vet, "actually never mind, I'll call back once I've checked my calendar",
                     {"urgent": "no"})
    assert body["outcome"] == "cancelled"


async def test_a_number_in_a_unit_goes_to_the_count_of_that_unit(vet):
    await say(vet, "Maria Gonzalez, two pets", {"owner_name": "Maria Gonzalez", "pets": "two"})
    # "two pets" is the pets' count, never the weight's, though the weight's words say pets
    assert "weight_kg" not in await values(vet)
    await say(vet, "we'll only bring 45 kilos of pets this time", {"pets": "45 kilos"})
    known = await values(vet)
    assert (known["pets"], known["weight_kg"]) == (2, 45)


async def test_who_someone_is_is_no_name(vet):
    body = await say(vet, "hiya, need to sort out a visit for my girl", {"owner_name": "girl"})
    assert body["asking"] == "owner_name"


async def test_a_free_text_answer_the_model_did_not_copy_is_the_answer(vet):
    await say(vet, "Maria Gonzalez", {"owner_name": "Maria Gonzalez"})
    await say(vet, "maria.g@example.com", {"parent_email": "maria.g@example.com"})
    await say(vet, "12 Elm Road", {"pickup_address": "12 Elm Road"})
    await say(vet, "two", None)
    await say(vet, "yes", None)
    body = await say(vet, "leave it with the concierge", {"notes": "none"})
    assert body["asking"] == "weight_kg"
    assert (await values(vet))["notes"] == "leave it with the concierge"


async def test_a_new_address_said_with_instead_stays_the_address(vet):
    await say(vet, "Maria Gonzalez, at 10 am", {"owner_name": "Maria Gonzalez",
                                                "time": "10 am"})
    await say(vet, "maria.g@example.com", {"parent_email": "maria.g@example.com"})
    await say(vet, "fine, pick it up from 200 Deansgate, Manchester M3 3NW instead",
              {"pickup_address": "200 Deansgate, Manchester M3 3NW"})
    known = await values(vet)
    assert (known["pickup_address"], known["time"]) == ("200 Deansgate, Manchester M3 3NW",
                                                        "10:00")


CLEANING = """
name: cleaning
description: Books a home cleaning.
form:
  slots:
    - {name: address, description: the street address to clean, question: "What's the address?"}
    - {name: bedrooms, type: integer, min: 1, max: 8, question: "How many bedrooms?"}
    - {name: bathrooms, type: integer, min: 1, max: 5, question: "How many bathrooms?"}
    - {name: date, type: date, question: "Which day?"}
"""


async def test_a_changed_count_goes_to_the_count_its_noun_names(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, CLEANING) as cleaning:
        await say(cleaning, "14 Elm Road, a two bedroom, one bathroom flat",
                  {"address": "14 Elm Road", "bedrooms": "two", "bathrooms": "one"})
        await say(cleaning, "sorry, there are 2 bathrooms actually", {"bedrooms": "2"})
        known = await values(cleaning)
        assert (known["bedrooms"], known["bathrooms"]) == (2, 2)


async def test_a_free_text_value_that_says_nothing_is_dropped(vet):
    body = await say(vet, "I don't know, I", {"owner_name": "Maria", "notes": "I"})
    assert "notes" not in await values(vet)
    assert body["asking"] == "owner_name"


async def test_a_description_that_names_a_choice_is_still_the_description(harness_factory,
                                                                          tmp_path):
    text = """
name: desk
description: Opens a ticket.
form:
  slots:
    - {name: category, type: choice, choices: [laptop, printer], question: "Which device?"}
    - {name: problem, description: what is going wrong, question: "What's wrong?"}
    - {name: floor, type: integer, question: "Which floor?"}
"""
    async with form_agent(harness_factory, tmp_path, text) as desk:
        await say(desk, "My laptop won't turn on since this morning",
                  {"category": "laptop", "problem": "My laptop won't turn on since this morning"})
        known = await values(desk)
        assert known["problem"] == "My laptop won't turn on since this morning"
        assert known["category"] == "laptop"


async def test_a_value_another_pattern_takes_goes_to_that_slot(harness_factory, tmp_path):
    text = r"""
name: desk
description: Opens a ticket.
form:
  slots:
    - {name: employee_id, pattern: 'E\d{5}', question: "Your employee ID?"}
    - {name: problem, description: what is going wrong, question: "What's wrong?"}
    - {name: asset_tag, pattern: 'IT-\d{5}', required: false, question: "The asset tag?"}
    - {name: floor, type: integer, question: "Which floor?"}
"""
    async with form_agent(harness_factory, tmp_path, text) as desk:
        await say(desk, "E21048, I'm locked out of my account",
                  {"employee_id": "E21048", "problem": "I'm locked out of my account"})
        body = await say(desk, "sorry, my ID is actually E20418", {"asset_tag": "E20418"})
        assert body["asking"] == "asset_tag"
        known = await values(desk)
        assert known["employee_id"] == "E20418" and "asset_tag" not in known


async def test_a_count_changed_with_its_noun_that_the_model_missed(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, CLEANING) as cleaning:
        await say(cleaning, "14 Elm Road, a two bedroom, one bathroom flat",
                  {"address": "14 Elm Road", "bedrooms": "two", "bathrooms": "one"})
        await say(cleaning, "oh wait, sorry, there are actually 2 bathrooms",
                  {"address": "Ana Costa"})
        known = await values(cleaning)
        assert (known["bedrooms"], known["bathrooms"]) == (2, 2)


async def test_words_a_yes_no_cannot_read_leave_the_free_text_answer(vet):
    await say(vet, "Maria Gonzalez", {"owner_name": "Maria Gonzalez"})
    await say(vet, "maria.g@example.com", {"parent_email": "maria.g@example.com"})
    await say(vet, "12 Elm Road", {"pickup_address": "12 Elm Road"})
    await say(vet, "two", None)
    await say(vet, "yes", None)
    body = await say(vet, "the cat carrier should face backwards", {"urgent": "backwards"})
    assert body["asking"] == "weight_kg"
    known = await values(vet)
    assert known["urgent"] is True and known["notes"] == "the cat carrier should face backwards"


async def test_free_text_the_user_mostly_did_not_say_is_a_guess(vet):
    await say(vet, "Hi, this is Maria Gonzalez, my cat has long hair",
              {"owner_name": "Maria Gonzalez", "notes": "long hair, allergic to some hair dyes"})
    assert "notes" not in await values(vet)


async def test_yes_said_twice_answers_two_yes_no_slots(harness_factory, tmp_path):
    text = """
name: movers
description: Books a move.
form:
  slots:
    - {name: has_lift, type: boolean, question: "Is there a lift?"}
    - {name: packing_help, type: boolean, question: "Packing help?"}
    - {name: large_items, type: integer, question: "How many large items?"}
"""
    async with form_agent(harness_factory, tmp_path, text) as movers:
        body = await say(movers, "yes, the building has a lift, and yes, we'd like packing help",
                         {"has_lift": "yes", "packing_help": "yes"})
        assert body["asking"] == "large_items"
        body = await say(movers, "just the one, an upright piano", {"large_items": "one"})
        assert body["final_response"] == {"has_lift": True, "packing_help": True,
                                          "large_items": 1}


SALON = r"""
name: salon
description: Books a haircut.
form:
  slots:
    - {name: service, type: choice, choices: [blow-dry, beard trim], question: "Which service?"}
    - name: stylist
      type: choice
      question: Who would you like?
      choices: [Jess, {value: Tom, synonyms: [Tommy]}, {value: anyone, synonyms: [any stylist]}]
    - {name: time, type: time, question: "What time?"}
    - {name: name, question: "Your name?"}
    - {name: phone, pattern: '\+?[0-9][0-9 -]{5,15}[0-9]', question: "Your number?"}
    - {name: home_size, type: choice, question: "How big?",
       choices: [{value: 4-bed, synonyms: [four bed]}, studio]}
    - {name: large_items, type: integer, required: false, question: "Large items like beds?",
       description: large items such as beds or wardrobes}
    - {name: notes, required: false, question: "Anything else?"}
"""


async def test_kinds_from_a_salon_and_a_removals_agent(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, SALON) as salon:
        # a choice's words that name no option are another slot's ("Sam Carter" the name);
        # "at 10 am" for "at ten am" is the time said
        await say(salon, "Beard trim with any stylist at ten am please, it's Sam Carter",
                  {"service": "beard trim", "stylist": "Sam Carter", "time": "at 10 am"})
        known = await values(salon)
        assert (known["name"], known["time"]) == ("Sam Carter", "10:00")
        assert known["stylist"] == "anyone"  # "any stylist", named in the message
        # a phone number the model put in the notes is the phone's
        await say(salon, "Tommy, and my mobile is 07555 010203 if you need it",
                  {"stylist": "Tommy", "notes": "mobile is 07555 010203 if you need it"})
        assert (await values(salon))["phone"] == "07555 010203"
        # "a four bed" names the home's size, no count of large items
        await say(salon, "it's a four bed", {"home_size": "four bed"})
        known = await values(salon)
        assert known["home_size"] == "4-bed" and "large_items" not in known


async def test_a_correction_that_names_its_slot(harness_factory, tmp_path):
    text = """
name: movers
description: Books a move.
form:
  slots:
    - {name: from_address, description: the address they are moving out of, question: "From?"}
    - {name: to_address, description: the address of the new home, question: "To?"}
    - {name: has_lift, type: boolean, question: "Is there a lift?"}
    - {name: floor, type: integer, question: "Which floor?"}
"""
    async with form_agent(harness_factory, tmp_path, text) as movers:
        await say(movers, "from 56 Kingsway, Reading to 12 Queens Road, Caversham",
                  {"from_address": "56 Kingsway, Reading",
                   "to_address": "12 Queens Road, Caversham"})
        body = await say(movers, "sorry, I got the new address wrong, it's 31 Priory Avenue, "
                                 "Caversham", {"has_lift": "no lift"})
        assert body["asking"] == "has_lift"
        known = await values(movers)
        assert known["to_address"] == "31 Priory Avenue, Caversham"
        assert known["from_address"] == "56 Kingsway, Reading"


async def test_the_answer_copied_into_the_notes_is_only_the_answer(harness_factory, tmp_path):
    async with form_agent(harness_factory, tmp_path, SALON) as salon:
        await say(salon, "a blow-dry with Jess at 9 am, Sam Carter, 07555 010203, a studio",
                  {"service": "blow-dry", "stylist": "Jess", "time": "9 am",
                   "name": "Sam Carter", "phone": "07555 010203", "home_size": "studio"})
        body = await say(salon, "just the one, an upright bed",
                         {"large_items": "one", "notes": "just the one, an upright bed"})
        assert body["asking"] == "notes"
        assert (await values(salon))["large_items"] == 1
