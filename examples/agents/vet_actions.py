"""Riverside Veterinary Clinic: the vet-appointment agent's own actions (see vet.yaml).

Each is called as f(arguments, ctx) -> dict. A dict with "error" refuses the value; the slot's
`reject` sentence is then said with {error} filled in, and the question is asked again.
"""

from __future__ import annotations

from datetime import date, time

# The clinic is open every day, except these public holidays (month, day).
CLOSED_DAYS = {
    (1, 1): "New Year's Day",
    (12, 25): "Christmas Day",
    (12, 26): "Boxing Day",
}

FIRST_APPOINTMENT = time(8, 0)
LAST_APPOINTMENT = time(18, 30)


def check_clinic_day(arguments: dict, ctx) -> dict:
    """Whether the clinic is open on arguments["date"] (YYYY-MM-DD)."""
    raw = str(arguments.get("date", "")).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return {"error": f"a day I couldn't read ({raw})"}
    holiday = CLOSED_DAYS.get((day.month, day.day))
    if holiday:
        return {"error": holiday}
    return {
        "date": day.isoformat(),
        "open": True,
        "first_appointment": FIRST_APPOINTMENT.strftime("%H:%M"),
        "last_appointment": LAST_APPOINTMENT.strftime("%H:%M"),
    }


def check_opening_hours(arguments: dict, ctx) -> dict:
    """Whether arguments["time"] (HH:MM) is within appointment hours, 08:00 to 18:30."""
    raw = str(arguments.get("time", "")).strip()
    try:
        at = time.fromisoformat(raw)
    except ValueError:
        return {"error": f"a time I couldn't read ({raw})"}
    if at < FIRST_APPOINTMENT or at > LAST_APPOINTMENT:
        return {"error": "outside appointment hours (08:00 to 18:30)"}
    return {"time": at.strftime("%H:%M"), "available": True}
