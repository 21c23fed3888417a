"""Actions of the house-moving agent (moving.yaml, name ``house-moving``).

The service imports these by path (``moving_actions:check_move_date`` and so on): this file
sits beside the agent file, and that folder is importable. Each is called as
``f(arguments, ctx) -> dict``; returning ``{"error": "..."}`` refuses the value, and the slot's
``reject`` sentence ("Sorry, {error}") says why before the question is asked again.

- ``check_move_date``: is a crew free that day? No Sundays, no bank holidays (England and
  Wales), at least two days' notice, no days we are already fully booked, at most two years
  ahead. Returns the day (the slot's value) and the crew assigned.
- ``check_arrival_time``: crews start between 07:00 and 15:00.
- ``normalize_phone``: strips spaces and dashes so the office gets one format
  ("07700 900 461" -> "07700900461", "+44 7700 900312" -> "+447700900312").
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_NOTICE_DAYS = 2
MAX_DAYS_AHEAD = 730
EARLIEST_ARRIVAL = time(7, 0)
LATEST_ARRIVAL = time(15, 0)
CREWS = ("Crew A", "Crew B", "Crew C")

# Bank holidays in England and Wales: our crews are off.
BANK_HOLIDAYS = {
    date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 28): "Boxing Day, substitute day",
    date(2027, 1, 1): "New Year's Day",
    date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday",
    date(2027, 5, 3): "Early May bank holiday",
    date(2027, 5, 31): "Spring bank holiday",
    date(2027, 8, 30): "Summer bank holiday",
    date(2027, 12, 27): "Christmas Day, substitute day",
    date(2027, 12, 28): "Boxing Day, substitute day",
    date(2028, 1, 3): "New Year's Day, substitute day",
}

# Days every crew is already out (end-of-month rush). Kept here until the diary system
# has an API we can call.
FULLY_BOOKED = {
    date(2027, 7, 31),
    date(2027, 12, 31),
}

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})")
_PHONE = re.compile(r"\+?\d{10,13}")


def _spoken(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def _local_today(ctx) -> date:
    """Today in the service's TIMEZONE (when it is in the environment), else the machine's."""
    now = getattr(ctx, "now", None)
    if not isinstance(now, datetime):
        now = datetime.now().astimezone()
    elif now.tzinfo is None:
        now = now.astimezone()
    zone = os.environ.get("TIMEZONE", "").strip()
    if zone:
        try:
            return now.astimezone(ZoneInfo(zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return now.astimezone().date()


def _open_for_booking(day: date) -> bool:
    return day.weekday() != 6 and day not in BANK_HOLIDAYS and day not in FULLY_BOOKED


def check_move_date(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("date", "")).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a day."}
    today = _local_today(ctx)
    if day < today:
        return {"error": "that day has already passed."}
    earliest = today + timedelta(days=MIN_NOTICE_DAYS)
    if day < earliest:
        while not _open_for_booking(earliest):
            earliest += timedelta(days=1)
        return {
            "error": "we need at least two days' notice to arrange a crew, so the earliest "
            f"we can do is {_spoken(earliest)}."
        }
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return {"error": "we only take bookings up to two years ahead."}
    if day.weekday() == 6:
        return {"error": "we don't do moves on Sundays."}
    if day in BANK_HOLIDAYS:
        return {
            "error": f"{_spoken(day)} is a bank holiday ({BANK_HOLIDAYS[day]}) and our "
            "crews are off."
        }
    if day in FULLY_BOOKED:
        return {"error": f"we're fully booked on {_spoken(day)}."}
    crew = CREWS[day.toordinal() % len(CREWS)]
    return {"date": day.isoformat(), "weekday": f"{day:%A}", "crew": crew}


def check_arrival_time(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("time", "")).strip()
    match = _TIME.match(raw)
    if not match:
        return {"error": f"I couldn't read {raw or 'that'} as a time."}
    try:
        start = time(int(match.group(1)), int(match.group(2)))
    except ValueError:
        return {"error": f"I couldn't read {raw} as a time."}
    if not EARLIEST_ARRIVAL <= start <= LATEST_ARRIVAL:
        return {"error": "our crews can only arrive between 7 am and 3 pm."}
    return {"time": f"{start:%H:%M}"}


def normalize_phone(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("phone", "")).strip()
    compact = re.sub(r"[\s\-().]", "", raw)
    if not _PHONE.fullmatch(compact):
        return {"error": "that number doesn't look complete: it should have 10 to 13 digits."}
    return {"phone": compact}
