"""Actions of the car-rental agent (rental.yaml), named there as rental_actions:<function>.

Each is called as f(arguments, ctx) -> dict; returning {"error": ...} refuses the value, and the
agent says the error and asks the slot's question again.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

# Days every branch is closed: (month, day) -> what the caller is told.
CLOSED_DAYS = {
    (12, 25): "Christmas Day (25 December)",
    (1, 1): "New Year's Day (1 January)",
}

# Cars are handed out from 07:00 to 20:00, both included.
OPEN_FROM = time(7, 0)
OPEN_UNTIL = time(20, 0)

# What our insurance covers for the main driver.
MIN_AGE = 21
MAX_AGE = 79


async def check_pickup_date(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Refuse a pickup day on which every branch is closed."""
    raw = str(arguments.get("date", "")).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a day."}
    closed = CLOSED_DAYS.get((day.month, day.day))
    if closed:
        return {"error": f"All our branches are closed on {closed}."}
    return {"date": day.isoformat()}


async def check_pickup_time(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Refuse a pickup time outside the hours the branches hand out cars."""
    raw = str(arguments.get("time", "")).strip()
    try:
        at = time.fromisoformat(raw)
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a time."}
    if not OPEN_FROM <= at <= OPEN_UNTIL:
        return {"error": "Sorry, our branches hand out cars only between 7 am and 8 pm."}
    return {"time": at.strftime("%H:%M")}


async def check_driver_age(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Refuse a main driver our insurance does not cover."""
    raw = arguments.get("age")
    try:
        age = int(str(raw).strip())
    except (TypeError, ValueError):
        return {"error": "I couldn't read that as an age."}
    if age < MIN_AGE:
        return {"error": f"Sorry, the main driver must be at least {MIN_AGE} years old to rent "
                         "with us."}
    if age > MAX_AGE:
        return {"error": f"Sorry, our insurance covers drivers only up to {MAX_AGE} years old."}
    return {"age": age}
