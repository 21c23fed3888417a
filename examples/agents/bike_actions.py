"""Spoke & Pedal's own actions for the bike-rental agent (bikes.yaml).

Called as f(arguments, ctx) -> dict; returning {"error": ...} refuses the value, which the
agent then asks for again with that sentence.
"""

from __future__ import annotations

from datetime import time

FIRST_PICKUP = time(9, 0)
LAST_PICKUP = time(18, 0)


def _parse_hhmm(raw: str) -> time | None:
    parts = raw.strip().split(":")
    if len(parts) < 2:
        return None
    try:
        return time(int(parts[0]), int(parts[1]))
    except ValueError:
        return None


def check_opening_hours(arguments: dict, ctx) -> dict:
    """Accept a pickup time (HH:MM) only while the shop hands out bikes: 09:00 to 18:00."""
    raw = str(arguments.get("time", ""))
    pickup = _parse_hhmm(raw)
    if pickup is None:
        return {"error": f"I couldn't read {raw!r} as a time."}
    if pickup < FIRST_PICKUP or pickup > LAST_PICKUP:
        return {
            "error": "Sorry, we only hand out bikes between 9 am and 6 pm.",
            "first_pickup": FIRST_PICKUP.strftime("%H:%M"),
            "last_pickup": LAST_PICKUP.strftime("%H:%M"),
        }
    return {
        "time": pickup.strftime("%H:%M"),
        "first_pickup": FIRST_PICKUP.strftime("%H:%M"),
        "last_pickup": LAST_PICKUP.strftime("%H:%M"),
    }
