"""Actions of the tutoring-booking agent (Brightside Tutoring Centre).

The Agent Session Service calls each as ``f(arguments, ctx) -> dict``. Returning
``{"error": "..."}`` refuses the value: the agent says the slot's ``reject`` sentence (which
quotes ``{error}``) and asks the question again. The slot's ``value`` path picks the stored
value out of a successful answer (``date`` and ``time`` here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# Closed on these days every year.
CLOSED_EVERY_YEAR: dict[tuple[int, int], str] = {
    (1, 1): "New Year's Day",
    (12, 25): "Christmas Day",
    (12, 26): "Boxing Day",
}

# Bank holidays (England) that move from year to year; the office keeps this list up to date.
CLOSED_DATES: dict[str, str] = {
    "2026-12-28": "the Boxing Day bank holiday",
    "2027-03-26": "Good Friday",
    "2027-03-29": "Easter Monday",
    "2027-05-03": "the early May bank holiday",
    "2027-05-31": "the spring bank holiday",
    "2027-08-30": "the summer bank holiday",
    "2027-12-27": "the Christmas bank holiday",
    "2027-12-28": "the Boxing Day bank holiday",
}

FIRST_START = dt.time(8, 0)    # earliest lesson start
LAST_START = dt.time(19, 30)   # latest lesson start (the centre closes at 21:30)


def _long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def check_centre_open(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Refuse a day the centre is closed; otherwise return it as ``date`` (YYYY-MM-DD)."""
    raw = str(arguments.get("date", "")).strip()
    try:
        day = dt.date.fromisoformat(raw[:10])
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a date."}
    reason = CLOSED_DATES.get(day.isoformat()) or CLOSED_EVERY_YEAR.get((day.month, day.day))
    if reason:
        return {"error": f"the centre is closed on {_long_date(day)} ({reason})."}
    return {"date": day.isoformat(), "open": True, "weekday": f"{day:%A}"}


def check_lesson_time(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Refuse a start time outside 08:00-19:30 or not on the hour / half hour."""
    raw = str(arguments.get("time", "")).strip()
    try:
        start = dt.time.fromisoformat(raw)
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a time."}
    if start.minute not in (0, 30) or start.second:
        hour = start.hour % 12 or 12
        return {
            "error": "lessons start on the hour or at half past the hour "
            f"(for example {hour}:00 or {hour}:30)."
        }
    if start < FIRST_START:
        return {"error": "our first lessons start at 8 am."}
    if start > LAST_START:
        return {"error": "our last lessons start at 7:30 pm."}
    return {"time": start.strftime("%H:%M")}
