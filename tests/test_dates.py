"""`get_booking_date` resolution with a fixed "now" (Wednesday 2026-11-25 15:30 in Kolkata)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from agent_session.tools.dates import resolve

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize("text, expected_date, expected_time", [
    ("tomorrow", date(2026, 11, 26), None),
    ("next Sunday", date(2026, 11, 29), None),
    ("Friday 6 pm", date(2026, 11, 27), time(18, 0)),
    ("in 2 days", date(2026, 11, 27), None),
    ("tomorrow at 9am", date(2026, 11, 26), time(9, 0)),
    ("the day after tomorrow at 8:15 in the morning", date(2026, 11, 27), time(8, 15)),
    ("2027-01-15 at 11pm", date(2027, 1, 15), time(23, 0)),
    ("tomorrow at noon", date(2026, 11, 26), time(12, 0)),
    ("in 3 days at 4:45 am", date(2026, 11, 28), time(4, 45)),
    ("half past ten in the morning", None, time(10, 30)),
    ("quarter to eight in the evening", None, time(19, 45)),
    ("6:30 am", None, time(6, 30)),
    ("5 pm", None, time(17, 0)),
    ("at 18:30", None, time(18, 30)),
    ("midnight", None, time(0, 0)),
])
def test_resolves_date_and_time(text, expected_date, expected_time):
    resolved = resolve(text, NOW, TZ)
    assert (resolved.date, resolved.time) == (expected_date, expected_time)


TODAY, TOMORROW = date(2026, 11, 25), date(2026, 11, 26)


@pytest.mark.parametrize("text, expected_date, expected_time, bare_hour", [
    # Recognizers end sentences with a dot: it is never a day of month.
    ("at 9.", None, time(9, 0), 9),
    ("9.", None, time(9, 0), 9),
    ("tomorrow at 9.", TOMORROW, time(9, 0), 9),
    ("at 9", None, time(9, 0), 9),
    ("at 9:30", None, time(9, 30), 9),
    ("9:30", None, time(9, 30), 9),
    ("9.30", None, time(9, 30), 9),
    ("930", None, time(9, 30), 9),
    ("930 in the morning", None, time(9, 30), None),
    ("1130 pm", None, time(23, 30), None),
    ("9 30 am", None, time(9, 30), None),
    ("nine o'clock", None, time(9, 0), 9),
    ("at 12", None, time(12, 0), 12),
    ("quarter to one", None, time(12, 45), 12),
    ("at 14:30", None, time(14, 30), None),
    ("09:30", None, time(9, 30), None),
    ("7 pm", None, time(19, 0), None),
    ("7pm", None, time(19, 0), None),
    ("7 p.m.", None, time(19, 0), None),
    ("seven in the evening", None, time(19, 0), None),
    ("quarter past eight in the evening", None, time(20, 15), None),
    ("half past 6 tonight", TODAY, time(18, 30), None),
    ("noon", None, time(12, 0), None),
    ("midnight", None, time(0, 0), None),
    ("eight fifteen", None, time(8, 15), 8),
    ("eight fifteen pm", None, time(20, 15), None),
    ("twelve thirty am", None, time(0, 30), None),
    ("ten to six", None, time(5, 50), 5),
    ("Friday 6", date(2026, 11, 27), time(6, 0), 6),
    ("six", None, time(6, 0), 6),
])
def test_reads_times_as_recognizers_write_them(text, expected_date, expected_time, bare_hour):
    resolved = resolve(text, NOW, TZ)
    assert (resolved.date, resolved.time, resolved.bare_hour, resolved.conflict) == (
        expected_date, expected_time, bare_hour, None)


@pytest.mark.parametrize("text, expected_date", [
    ("the day after tomorrow", date(2026, 11, 27)),
    ("in 3 days", date(2026, 11, 28)),
    ("next Monday", date(2026, 11, 30)),
    ("this Friday", date(2026, 11, 27)),
    ("on 12 March 2027", date(2027, 3, 12)),
    ("2027-01-15", date(2027, 1, 15)),
    ("today", TODAY),
    ("tonight", TODAY),
    ("this evening", TODAY),
    ("the 5th", date(2026, 12, 5)),
    ("the fifth of December", date(2026, 12, 5)),
    ("Friday the 4th", date(2026, 12, 4)),
    ("six", None),  # a lone number is not a day of month
    ("9.", None),
])
def test_reads_dates_whole(text, expected_date):
    resolved = resolve(text, NOW, TZ)
    assert resolved.date == expected_date and resolved.conflict is None


def test_tonight_is_the_evening_of_today():
    resolved = resolve("tonight", NOW, TZ)
    assert (resolved.date, resolved.time, resolved.bare_hour) == (TODAY, None, None)
    assert resolve("tonight at 8", NOW, TZ).time == time(20, 0)


def test_multi_word_date_with_a_time():
    resolved = resolve("day after tomorrow at 2:15 pm", NOW, TZ)
    assert (resolved.date, resolved.time, resolved.bare_hour) == (
        date(2026, 11, 27), time(14, 15), None)


@pytest.mark.parametrize("text, words", [
    ("7am evening", ["7am", "evening"]),
    ("7 am in the evening", ["7 am", "evening"]),
    ("9 pm in the morning", ["9 pm", "morning"]),
    ("14:30 in the morning", ["14:30", "morning"]),
    ("tomorrow morning or evening", ["morning", "evening"]),
    ("at 9 or 10", ["9", "10"]),
    ("tomorrow or Friday", ["tomorrow", "friday"]),
    ("Friday the 5th", ["5th", "Saturday", "Friday"]),
])
def test_contradicting_words_give_no_time(text, words):
    resolved = resolve(text, NOW, TZ)
    assert resolved.time is None and resolved.bare_hour is None
    assert resolved.conflict is not None and resolved.conflict.endswith(".")
    assert all(word in resolved.conflict for word in words)


def test_a_time_conflict_keeps_the_date():
    resolved = resolve("tomorrow at 7 am in the evening", NOW, TZ)
    assert (resolved.date, resolved.time) == (TOMORROW, None)
    assert resolved.conflict == "'7 am' contradicts 'evening'."


def test_relative_dates_follow_the_configured_zone():
    late = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # already the 26th in Kolkata
    assert resolve("tomorrow", late, TZ).date == date(2026, 11, 27)
    assert resolve("tomorrow", late, ZoneInfo("UTC")).date == date(2026, 11, 26)


def test_text_without_a_date_resolves_to_nothing():
    resolved = resolve("hello there", NOW, TZ)
    assert resolved.date is None and resolved.time is None


async def test_action_reports_missing_parts_and_past_dates(harness):
    from agent_session.agent.actions import ActionContext

    action = harness.services.agents.get(None).registry.get("get_booking_date")
    ctx = ActionContext(session_id="s", user_id=None, now=NOW)
    assert await action.run({"user_input": "tomorrow"}, ctx) == {
        "date": "2026-11-26", "weekday": "Thursday", "time": None,
        "note": "No time in the text: ask the user for the time."}
    assert (await action.run({"user_input": "5 pm"}, ctx))["note"].startswith("No date")
    past = await action.run({"user_input": "2025-01-01"}, ctx)
    assert "in the past" in past["error"]
    assert "No date or time" in (await action.run({"user_input": "blue"}, ctx))["error"]
