"""The cinema box office's own action: is there a showing at that time?

Named in cinema.yaml as ``cinema_actions:check_showtime`` and used by the ``time`` slot's
``resolve`` rule. Every film runs at the same five showings each day.
"""

from __future__ import annotations

import re

SHOWTIMES = ("11:00", "14:00", "16:30", "19:00", "21:30")
SPOKEN = "11 am, 2 pm, 4:30 pm, 7 pm and 9:30 pm"

_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
# words that say which half of the day was meant: then the time is taken as read
_HALF_OF_DAY = re.compile(
    r"\b(?:a\.?m\.?|p\.?m\.?|morning|afternoon|evening|night|tonight|noon|midday|midnight)\b"
    r"|\d(?:am|pm)\b",
    re.IGNORECASE,
)


def _hhmm(text: str) -> str | None:
    match = _HHMM.search(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def check_showtime(arguments: dict, ctx) -> dict:
    """``{"time": "HH:MM", "said": "..."}`` -> ``{"time": "HH:MM"}`` or ``{"error": ...}``."""
    time = _hhmm(str(arguments.get("time", "")))
    said = str(arguments.get("said", "") or "")
    if time is None:
        return {"error": "I need a time such as 7 pm.", "showtimes": list(SHOWTIMES)}
    if time in SHOWTIMES:
        return {"time": time, "showtimes": list(SHOWTIMES)}
    # The slot reads a bare hour as pm ("the 11 o'clock" -> 23:00). When the caller did not say
    # which half of the day, and the other half is a showing, that is the one they mean.
    if not _HALF_OF_DAY.search(said):
        hour, minute = time.split(":")
        other = f"{(int(hour) + 12) % 24:02d}:{minute}"
        if other in SHOWTIMES:
            return {"time": other, "showtimes": list(SHOWTIMES)}
    return {
        "error": f"There's no showing at {time}. Our showings are at {SPOKEN}.",
        "showtimes": list(SHOWTIMES),
    }
