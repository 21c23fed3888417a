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


def test_relative_dates_follow_the_configured_zone():
    late = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # already the 26th in Kolkata
    assert resolve("tomorrow", late, TZ).date == date(2026, 11, 27)
    assert resolve("tomorrow", late, ZoneInfo("UTC")).date == date(2026, 11, 26)


def test_text_without_a_date_resolves_to_nothing():
    resolved = resolve("hello there", NOW, TZ)
    assert resolved.date is None and resolved.time is None


async def test_action_reports_missing_parts_and_past_dates(harness):
    from agent_session.agent.actions import ActionContext

    action = harness.services.registry.get("get_booking_date")
    ctx = ActionContext(session_id="s", user_id=None, now=NOW)
    assert await action.run({"user_input": "tomorrow"}, ctx) == {
        "date": "2026-11-26", "weekday": "Thursday", "time": None,
        "note": "No time in the text: ask the user for the time."}
    assert (await action.run({"user_input": "5 pm"}, ctx))["note"].startswith("No date")
    past = await action.run({"user_input": "2025-01-01"}, ctx)
    assert "in the past" in past["error"]
    assert "No date or time" in (await action.run({"user_input": "blue"}, ctx))["error"]
