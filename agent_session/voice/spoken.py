"""Text as a person says it, for what a voice transport speaks: "2026-12-03 at 09:00" is
"Thursday the 3rd of December at 9 in the morning", and an address does not repeat its city and
country ("MG Road, Bengaluru, India to Koramangala, Bengaluru, India" is "MG Road to
Koramangala"). The text routes keep the exact values; only the spoken words change."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\s*(?:am|pm|a\.m\.|p\.m\.))", re.I)
# ", City, Country" (or ", Region, Country") after a place name: capitalised words only.
_PLACE_TAIL = re.compile(r",\s*([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*),\s*"
                         r"([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\b")


def ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def spoken_date(day: date, today: date | None = None) -> str:
    text = f"{day:%A} the {ordinal(day.day)} of {day:%B}"
    if today is None or abs((day - today).days) > 300:
        text += f" {day.year}"
    return text


def spoken_time(hour: int, minute: int) -> str:
    if (hour, minute) == (0, 0):
        return "midnight"
    if (hour, minute) == (12, 0):
        return "noon"
    twelve = hour % 12 or 12
    clock = f"{twelve}" if minute == 0 else f"{twelve}:{minute:02d}"
    if hour < 12:
        part = "in the morning" if hour >= 5 else "at night"
    elif hour < 17:
        part = "in the afternoon"
    elif hour < 21:
        part = "in the evening"
    else:
        part = "at night"
    return f"{clock} {part}"


def without_repeated_places(text: str) -> str:
    """Drop the ", City, Country" that every address of the text ends with; a text with one
    address keeps its city."""
    tails = [(m.group(1), m.group(2)) for m in _PLACE_TAIL.finditer(text)]
    if not tails:
        return text
    if len(tails) == 1:
        return _PLACE_TAIL.sub(lambda m: f", {m.group(1)}", text)
    return _PLACE_TAIL.sub("", text)


def spoken(text: str, tz: ZoneInfo | None = None) -> str:
    today = datetime.now(tz).date() if tz is not None else None

    def say_date(match: re.Match[str]) -> str:
        try:
            return spoken_date(date(int(match[1]), int(match[2]), int(match[3])), today)
        except ValueError:
            return match[0]

    text = _DATE.sub(say_date, text)
    text = _TIME.sub(lambda m: spoken_time(int(m[1]), int(m[2])), text)
    return without_repeated_places(text)
