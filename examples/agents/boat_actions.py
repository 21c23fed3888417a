"""Actions of the ``boat-tours`` agent (Bay Harbour Boat Tours), used by ``boat.yaml``.

The service imports this file by the import paths ``boat_actions:check_departure`` and
``boat_actions:normalize_email`` (the agent file's folder is importable). Each action is
called as ``f(arguments, ctx) -> dict``; returning ``{"error": ...}`` refuses the caller's
value, and the slot's question is asked again.
"""

from __future__ import annotations

import re
from typing import Any

# The published timetable: every tour sails every day at these local times (HH:MM).
TIMETABLE: dict[str, tuple[str, ...]] = {
    "harbour cruise": ("10:00", "13:00", "16:00"),
    "whale watching": ("10:00", "13:00"),
    "island day trip": ("10:00",),
    "sunset cruise": ("18:00",),
}
ALL_DEPARTURES: tuple[str, ...] = tuple(
    sorted({time for times in TIMETABLE.values() for time in times})
)
SCHEDULE_SENTENCE = "Our boats leave at 10 am, 1 pm and 4 pm, and the sunset cruise at 6 pm."

_TIME = re.compile(r"\s*(\d{1,2})(?:[:.h](\d{2}))?\s*")


def _hhmm(text: str) -> str | None:
    """'13:00', '1:00', '13.00' -> 'HH:MM'; anything else -> None."""
    match = _TIME.fullmatch(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _spoken(hhmm: str) -> str:
    """'13:00' -> '1 pm', '10:30' -> '10:30 am' (as a person says it on the phone)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12}:{minute:02d} {suffix}" if minute else f"{hour12} {suffix}"


def _listing(times: tuple[str, ...]) -> str:
    spoken = [_spoken(time) for time in times]
    if len(spoken) == 1:
        return spoken[0]
    return ", ".join(spoken[:-1]) + " and " + spoken[-1]


def check_departure(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Whether a boat leaves at this time (on the given tour's timetable, when one is given).

    arguments: ``time`` ("13:00", the typed value of the time slot), optional ``tour``.
    Returns ``{"time": "13:00", "tours": [...]}`` (the tours leaving then), or an error.
    """
    hhmm = _hhmm(str(arguments.get("time") or ""))
    if hhmm is None:
        return {"error": "Sorry, I didn't catch a departure time."}
    tour = str(arguments.get("tour") or "").strip().lower()
    if tour in TIMETABLE:
        times = TIMETABLE[tour]
        if hhmm not in times:
            return {
                "error": (
                    f"Sorry, there's no departure at {_spoken(hhmm)} for the {tour}. "
                    f"The {tour} leaves at {_listing(times)}."
                )
            }
    elif hhmm not in ALL_DEPARTURES:
        return {"error": f"Sorry, there's no departure at {_spoken(hhmm)}. {SCHEDULE_SENTENCE}"}
    tours = [name for name, times in TIMETABLE.items() if hhmm in times]
    return {"time": hhmm, "tours": tours}


_EMAIL = re.compile(r"[a-z0-9_][\w.%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.ASCII)
_AT_SIGN = re.compile(r"\s+(?:at sign|at)\s+")
_SPOKEN_SYMBOLS = (
    (re.compile(r"\s*\b(?:dot|period)\b\s*"), "."),
    (re.compile(r"\s*\bunderscore\b\s*"), "_"),
    (re.compile(r"\s*\b(?:dash|hyphen)\b\s*"), "-"),
    (re.compile(r"\s*@\s*"), "@"),
)


def normalize_email(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """An email address as typed or spelt out on the phone, in its written, lower-case form.

    "Priya dot Raman at outlook dot com" -> "priya.raman@outlook.com";
    "my email is Jo.Smith@Gmail.com" -> "jo.smith@gmail.com". Words holding no address: error.
    """
    text = " " + str(arguments.get("text") or "").lower() + " "
    if "@" not in text:
        text = _AT_SIGN.sub("@", text)
    for pattern, symbol in _SPOKEN_SYMBOLS:
        text = pattern.sub(symbol, text)
    match = _EMAIL.search(text)
    if match is None:
        return {"error": "That doesn't sound like a complete email address."}
    return {"email": match.group(0)}
