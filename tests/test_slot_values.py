"""Typed values from a user's words: numbers, yes/no, choices, and the numbers said."""

from __future__ import annotations

import pytest

from agent_session.agent.slot_values import (
    match_choice,
    number_words_in,
    parse_boolean,
    parse_integer,
    parse_number,
    same_number,
)

SEATING = [("window", ["by the window"]), ("patio", ["outside", "outdoors", "terrace"]),
           ("indoors", ["inside"])]


@pytest.mark.parametrize("text, expected", [
    ("4", 4), ("4.5", 4.5), ("1,200", 1200), ("-3", -3), ("4.0", 4), ("table for 4.", 4),
    ("2 thousand", 2000), ("1.5 million", 1_500_000),
])
def test_number_in_digits(text, expected):
    value = parse_number(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("six", 6), ("zero", 0), ("twenty one", 21), ("twenty-one", 21),
    ("a hundred and five", 105), ("one thousand two hundred", 1200),
    ("nine hundred and ninety nine", 999), ("one million two hundred thousand", 1_200_000),
    ("a dozen", 12), ("half a dozen", 6), ("two dozen", 24), ("a couple", 2),
    ("a couple of days", 2), ("two and a half", 2.5), ("minus three", -3),
])
def test_number_in_words(text, expected):
    value = parse_number(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("we are six people", 6), ("table for 4 please", 4), ("party of twelve", 12),
    ("just one", 1), ("6 or six", 6),  # the same number twice is one number
])
def test_number_inside_a_phrase(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", [
    "4 or 5", "4-5", "four five", "blue", "", "the 5th", "the first", "that one", "a table",
    "the mixd one", "a big one", "the other one",  # "one" standing for a thing
])
def test_no_number_or_two_numbers_is_none(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("just one", 1), ("one and a half", 1.5), ("a table for one", 1), ("the big one, 3 boxes", 3)])
def test_one_as_a_count_is_still_read(text, expected):
    assert parse_number(text) == expected


def test_integer_refuses_fractions():
    assert parse_integer("six") == 6
    assert parse_integer("we are 12") == 12
    assert parse_integer("4.5") is None
    assert parse_integer("two and a half") is None
    assert parse_integer("4 or 5") is None
    assert parse_integer("none") is None


@pytest.mark.parametrize("text", [
    "yes", "Yes.", "yeah", "yep", "sure", "correct", "that's right", "That\u2019s right",
    "please do", "absolutely", "ok", "okay", "I do", "yes I do", "yes please", "no problem",
    "of course",
])
def test_yes(text):
    assert parse_boolean(text) is True


@pytest.mark.parametrize("text", [
    "no", "No.", "nope", "not really", "no thanks", "don't", "negative", "I don't",
    "I do not", "no I don't", "please don't", "of course not", "not correct",
    "that's not right",
])
def test_no(text):
    assert parse_boolean(text) is False


@pytest.mark.parametrize("text", ["no, yes", "yes no", "I do, I don't", "not sure", "maybe",
                                  "I don't know", "blue", ""])
def test_no_yes_or_no_is_none(text):
    assert parse_boolean(text) is None


@pytest.mark.parametrize("text, expected", [
    ("outside please", "patio"), ("somewhere inside", "indoors"), ("Window!", "window"),
    ("by the window please", "window"), ("on the TERRACE", "patio"), ("patio", "patio"),
])
def test_choice_by_whole_words(text, expected):
    assert match_choice(text, SEATING) == expected


@pytest.mark.parametrize("text, expected", [
    ("windw seat", "window"), ("terace", "patio"), ("insid", "indoors"),
])
def test_choice_by_misspelling(text, expected):
    assert match_choice(text, SEATING) == expected


@pytest.mark.parametrize("text", ["the bar", "", "outside or inside", "patoi"])
def test_no_choice_or_two_choices_is_none(text):
    assert match_choice(text, SEATING) is None


def test_equal_fuzzy_matches_are_ambiguous():
    assert match_choice("windows", [("a", ["window"]), ("b", ["widows"])]) is None


def test_fuzzy_threshold_is_the_callers():
    assert match_choice("windw", SEATING, threshold=95) is None


def test_a_phrase_wins_over_another_values_word_inside_it():
    choices = [("bar", ["at the bar"]), ("counter", ["bar counter"])]
    assert match_choice("the bar counter please", choices) == "counter"


def test_numbers_said_in_words_and_digits():
    assert number_words_in("six guests at half past seven") == {"6", "7"}
    assert number_words_in("4 or 5 of us, maybe twenty-one") == {"4", "5", "21"}
    assert number_words_in("1,200 and two and a half") == {"1200", "2.5"}
    assert number_words_in("the 5th, that one") == set()
    assert number_words_in("no numbers here") == set()


def test_same_number():
    assert same_number("6", "six")
    assert same_number("6.0", "we are 6")
    assert same_number("twenty one", "21")
    assert not same_number("6", "seven")
    assert not same_number("blue", "blue")
    assert not same_number("4 or 5", "4")


@pytest.mark.parametrize(("words", "value"), [
    ("555-0182", "555-0182"),
    ("my number is 555-0182 thanks", "555-0182"),  # the one part the pattern matches whole
    ("555-0182 or 555-0199", None),  # two: asked again
    ("I don't have one", None)])
def test_a_patterned_text_slot_takes_the_part_that_matches(words, value):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from agent_session.agent.slot_types import read
    from agent_session.agent.slots import Slot

    slot = Slot(name="phone", pattern=r"\+?[0-9][0-9 ()-]{5,}[0-9]", question="Your phone?",
                description="a phone number")
    reading = read(slot, words, datetime(2026, 11, 25, tzinfo=UTC), ZoneInfo("UTC"))
    assert (reading.value if reading.ok else None) == value
    if value is None:
        assert reading.reason == f"\u201c{words}\u201d doesn't look like a phone number."


@pytest.mark.parametrize(("days", "words", "value", "reason"), [
    ("future", "yesterday", None, "2026-11-24 is in the past."),
    ("past", "14 March 1961", "1961-03-14", None),  # a date of birth
    ("past", "5/22/1958", "1958-05-22", None),
    ("past", "March 14", "2026-03-14", None),  # no year: the last March 14
    ("past", "tomorrow", None, "2026-11-26 is in the future."),
    ("any", "yesterday", "2026-11-24", None),
    ("any", "tomorrow", "2026-11-26", None)])
def test_a_date_slot_takes_the_days_it_declares(days, words, value, reason):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from agent_session.agent.slot_types import read
    from agent_session.agent.slots import Slot

    tz = ZoneInfo("Asia/Kolkata")
    slot = Slot(name="day", type="date", days=days, question="Which day?")
    reading = read(slot, words, datetime(2026, 11, 25, 10, tzinfo=tz), tz)
    assert (reading.value if reading.ok else None, reading.reason) == (value, reason)


def test_days_is_only_for_a_date():
    from pydantic import ValidationError

    from agent_session.agent.slots import Slot

    with pytest.raises(ValidationError, match="`days` is only for type date"):
        Slot(name="n", type="integer", days="past", question="?")


@pytest.mark.parametrize(("words", "value", "reason"), [
    ("3 hours", 3, None), ("three and a half hours", 3.5, None), ("4 hrs", 4, None),
    ("2", 2, None),
    ("2 days", None, "\u201c2 days\u201d isn't in hours: I need the number of hours."),
    ("90 minutes", None, "\u201c90 minutes\u201d isn't in hours: I need the number of hours.")])
def test_a_number_in_another_unit_than_the_slot_s_is_refused(words, value, reason):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from agent_session.agent.slot_types import read
    from agent_session.agent.slots import Slot

    slot = Slot(name="hours", type="number", min=1, max=8, question="For how many hours?",
                description="how long the rental lasts, in hours")
    reading = read(slot, words, datetime(2026, 11, 25, tzinfo=UTC), ZoneInfo("UTC"))
    assert (reading.value if reading.ok else None, reading.reason) == (value, reason)


@pytest.mark.parametrize("text", ["just the one", "only the one please"])
def test_just_the_one_is_a_count_of_one(text):
    assert parse_number(text) == 1


@pytest.mark.parametrize(("text", "numbers"), [
    ("Rochdale OL16 1LW", set()), ("B12 road", set()), ("a 4x4", set()),
    ("at 9am", {"9"}), ("2kg", {"2"}), ("2.5kg", {"2.5"}), ("10km", {"10"})])
def test_a_number_inside_a_code_is_no_number_said(text, numbers):
    """A postcode's "1LW" says no 1; a number with its unit ("2kg") is said."""
    assert number_words_in(text) == numbers


@pytest.mark.parametrize(("message", "found"), [
    ("pickup at 30 Drake Street", []), ("at 5 Silver Street", []),
    ("tomorrow at 9", ["at 9"]), ("tomorrow at 9.", ["at 9"]), ("at 9.30", ["at 9.30"]),
    ("around 10:30 please", ["around 10:30"]), ("at 4 pm", ["at 4 pm"])])
def test_a_bare_hour_is_an_hour_not_a_house_number(message, found):
    from agent_session.agent.typed_finder import phrases
    assert phrases("time", message) == found


@pytest.mark.parametrize(("message", "new", "old"), [
    ("sorry, the pickup is at 30 Drake Street, Rochdale OL16 1LW, not Bury",
     "30 Drake Street, Rochdale OL16 1LW", "Bury"),
    ("actually the name is Ann Lee, not Anne Leigh", "Ann Lee", "Anne Leigh"),
    ("sorry it's Thursday, not Friday", "Thursday", "Friday"),
    ("Yes, two parcels, not three", "two parcels", "three"),
    ("no wait, make that 8:30 instead of 9", "8:30", "9")])
def test_the_new_words_of_a_correction_lose_their_lead_in(message, new, old):
    from agent_session.agent.repairs import instead_of
    assert instead_of(message) == (new, old)


@pytest.mark.parametrize(("message", "dates", "times"), [
    ("collect on Friday 16 July 2027 at quarter past two", ["on Friday 16 July 2027"],
     ["at quarter past two"]),
    ("tomorrow at 10 am, about 12 kg", ["tomorrow"], ["at 10 am"]),
    ("June 3rd, 2027", ["June 3rd, 2027"], []),
    ("on Tuesday, and on Friday too", ["on Tuesday", "on Friday"], [])])
def test_a_date_s_parts_are_one_phrase_and_a_weight_no_hour(message, dates, times):
    from agent_session.agent.typed_finder import phrases
    assert (phrases("date", message), phrases("time", message)) == (dates, times)


@pytest.mark.parametrize(("kind", "given", "typed"), [
    ("integer", 34, 34), ("integer", "34", 34), ("integer", "34.5", None), ("number", "2.5", 2.5),
    ("number", 3, 3), ("boolean", True, True), ("boolean", "no", False), ("text", 7, "7"),
    ("integer", True, None)])
def test_what_an_action_gives_is_read_as_the_slot_s_type(kind, given, typed):
    from agent_session.agent.slot_types import as_slot_type
    from agent_session.agent.slots import Slot
    assert as_slot_type(Slot(name="x", type=kind, question="?"), given) == typed


@pytest.mark.parametrize(("name", "words", "answer"), [
    ("can_work", "I can't work without it", False), ("can_work", "I can still work", True),
    ("urgent", "it's urgent", True), ("urgent", "it isn't urgent", False),
    ("signature_required", "no signature needed", False), ("urgent", "hmm", None),
    ("child_seats", "one child seat please", True)])
def test_a_yes_no_said_in_the_slot_s_own_words(name, words, answer):
    from agent_session.agent.slots import Slot
    from agent_session.agent.typed_finder import said_yes_no
    slot = Slot(name=name, type="boolean", question="?")
    assert said_yes_no(slot, words) is answer


def test_a_count_s_noun_may_be_shortened():
    from agent_session.agent.slots import Slot
    from agent_session.agent.typed_finder import count_phrase
    beds, baths = (Slot(name=n, type="integer", question="?") for n in ("bedrooms", "bathrooms"))
    assert count_phrase(beds, "my 2 bed flat", [beds, baths]) == "2 bed"
    assert count_phrase(baths, "2 bed, 1 bath", [beds, baths]) == "1 bath"
    assert count_phrase(beds, "at 2 pm", [beds, baths]) is None


@pytest.mark.parametrize(("words", "floor"), [
    ("the 4th floor", 4), ("3rd floor", 3), ("fourth floor", 4), ("ground floor", 0),
    ("the 5th", None)])
def test_an_ordinal_with_the_slot_s_noun_is_its_number(words, floor):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from agent_session.agent.slot_types import read
    from agent_session.agent.slots import Slot
    slot = Slot(name="floor", type="integer", question="Which floor?")
    assert read(slot, words, datetime.now(ZoneInfo("UTC")), ZoneInfo("UTC")).value == floor


@pytest.mark.parametrize(("message", "dates"), [
    ("we're on the 3rd floor", []), ("the 3rd of June", ["the 3rd of June"]),
    ("the 3rd at 9", ["the 3rd"]), ("the 3rd June", ["the 3rd June"])])
def test_an_ordinal_before_a_noun_is_no_day(message, dates):
    from agent_session.agent.typed_finder import phrases
    assert phrases("date", message) == dates
