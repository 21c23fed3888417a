"""The dog grooming agent's own action (named in grooming.yaml as grooming_actions:check_hours)."""

from __future__ import annotations

OPENS = (8, 0)  # first drop-off, 08:00
LAST_DROP_OFF = (17, 0)  # last drop-off, 17:00


def check_hours(arguments: dict, ctx) -> dict:
    """Accept a drop-off time ("HH:MM") inside the salon's hours; refuse any other.

    Returns {"time": "HH:MM"} (the resolve rule's `value` path), or {"error": ...} to refuse.
    """
    raw = str(arguments.get("time", "")).strip()
    try:
        hours, minutes = (int(part) for part in raw.split(":")[:2])
    except ValueError:
        return {"error": f"not a time: {raw!r}"}
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        return {"error": f"not a time: {raw!r}"}
    if not (OPENS <= (hours, minutes) <= LAST_DROP_OFF):
        return {"error": "outside drop-off hours (08:00 to 17:00)", "time_asked": raw}
    return {"time": f"{hours:02d}:{minutes:02d}", "open": True}
