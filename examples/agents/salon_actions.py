"""The Shear Bliss hair salon agent's own actions (named in salon.yaml).

Each is called as f(arguments, ctx) -> dict. ctx.now is an aware datetime. Returning
{"error": "..."} refuses the value: the agent file's `reject` says "Sorry, {error}." and
asks the slot's question again.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OPENS = time(9, 0)  # first appointment
LAST_START = time(18, 0)  # last appointment starts at 6 pm (we close at 7 pm)
MAX_DAYS_AHEAD = 183  # the appointment book is open six months ahead
CLOSED_ON = {  # (month, day): the holiday; the salon is open every other day
    (12, 25): "Christmas Day",
    (12, 26): "Boxing Day",
    (1, 1): "New Year's Day",
}


def _today(ctx) -> date:
    """Today in the service's TIMEZONE when it is set in the environment, else local time."""
    now = getattr(ctx, "now", None) or datetime.now().astimezone()
    zone = os.environ.get("TIMEZONE")
    if zone:
        try:
            return now.astimezone(ZoneInfo(zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return now.astimezone().date()


def check_open_day(arguments: dict, ctx) -> dict:
    """The salon is open on that day and it is inside the six-month booking window."""
    said = str(arguments.get("date", "")).strip()
    try:
        day = date.fromisoformat(said[:10])
    except ValueError:
        return {"error": f"I couldn't work out which day {said} is"}
    holiday = CLOSED_ON.get((day.month, day.day))
    if holiday:
        return {"error": f"the salon is closed on {holiday}"}
    if (day - _today(ctx)).days > MAX_DAYS_AHEAD:
        return {"error": "we only take bookings up to six months ahead"}
    return {
        "date": day.isoformat(),
        "opens": OPENS.strftime("%H:%M"),
        "last_appointment": LAST_START.strftime("%H:%M"),
    }


def check_opening_hours(arguments: dict, ctx) -> dict:
    """An appointment may start from 9:00 up to 18:00 (the salon closes at 19:00)."""
    said = str(arguments.get("time", "")).strip()
    try:
        hours, minutes = said.split(":")[:2]
        start = time(int(hours), int(minutes))
    except ValueError:
        return {"error": f"I couldn't work out the time {said}"}
    if start < OPENS or start > LAST_START:
        return {
            "error": (
                "we're open from 9 in the morning and the last appointment "
                "starts at 6 in the evening"
            )
        }
    return {"time": start.strftime("%H:%M")}
