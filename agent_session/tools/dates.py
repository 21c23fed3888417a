"""Resolve spoken dates and times ("tomorrow at 9am", "next Sunday", "half past ten in the
morning") to a calendar date and a 24-hour time, relative to now in the service's time zone.

The time of day is extracted first with a few patterns (dateparser would silently fill in the
current time when the text has none, and we must never assume a time); the rest goes to
dateparser, preferring future dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dateparser
import dateparser.search

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_NUM = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_MERIDIEM = {
    "am": "am", "a.m.": "am", "a.m": "am", "pm": "pm", "p.m.": "pm", "p.m": "pm",
    "in the morning": "am", "morning": "am", "in the afternoon": "pm", "afternoon": "pm",
    "in the evening": "pm", "evening": "pm", "at night": "pm", "tonight": "pm", "night": "pm",
}
_MER = r"(a\.m\.?|p\.m\.?|am|pm|in the morning|in the afternoon|in the evening|at night)"
_TIME_PATTERNS = [
    ("noon", re.compile(r"\b(at\s+)?(12\s*)?(noon|midday)\b")),
    ("midnight", re.compile(r"\b(at\s+)?midnight\b")),
    ("half", re.compile(rf"\b(at\s+)?half\s+past\s+{_NUM}(\s*o'?\s?clock)?(\s*{_MER})?")),
    ("quarter_past", re.compile(rf"\b(at\s+)?(a\s+)?quarter\s+past\s+{_NUM}(\s*{_MER})?")),
    ("quarter_to", re.compile(rf"\b(at\s+)?(a\s+)?quarter\s+to\s+{_NUM}(\s*{_MER})?")),
    ("clock", re.compile(rf"\b(at\s+)?{_NUM}(?::(\d{{2}}))?\s*(?:o'?\s?clock)?\s*{_MER}")),
    ("hhmm", re.compile(r"\b(at\s+)?(\d{1,2}):(\d{2})\b(?!\s*(?:am|pm|a\.m|p\.m))")),
    ("oclock", re.compile(rf"\b(at\s+)?{_NUM}\s*o'?\s?clock\b")),
]
_LATER_DAYPART = re.compile(r"\b(this\s+)?(afternoon|evening|tonight|night)\b")
_FILLER = re.compile(r"\b(on|at|for|by|around|about|please|the|of|booking|book|ride|cab)\b")


@dataclass(frozen=True)
class ResolvedDate:
    date: date | None
    time: time | None


def _hour(token: str) -> int:
    return _NUMBER_WORDS[token] if token in _NUMBER_WORDS else int(token)


def _apply_meridiem(hour: int, meridiem: str | None) -> int:
    if meridiem is None:
        return hour
    if meridiem == "pm" and hour < 12:
        return hour + 12
    if meridiem == "am" and hour == 12:
        return 0
    return hour


def _meridiem(token: str | None) -> str | None:
    return _MERIDIEM.get(token.strip()) if token else None


def _extract_time(text: str) -> tuple[time | None, str]:
    """The time of day in `text` (or None) and the text with that time removed."""
    for kind, pattern in _TIME_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        g = match.groups()
        if kind == "noon":
            hour, minute = 12, 0
        elif kind == "midnight":
            hour, minute = 0, 0
        elif kind == "half":
            hour, minute = _apply_meridiem(_hour(g[1]), _meridiem(g[4])), 30
        elif kind == "quarter_past":
            hour, minute = _apply_meridiem(_hour(g[2]), _meridiem(g[4])), 15
        elif kind == "quarter_to":
            hour = (_apply_meridiem(_hour(g[2]), _meridiem(g[4])) - 1) % 24
            minute = 45
        elif kind == "clock":
            hour, minute = _apply_meridiem(_hour(g[1]), _meridiem(g[3])), int(g[2] or 0)
        elif kind == "hhmm":
            hour, minute = int(g[1]), int(g[2])
        else:
            hour, minute = _hour(g[1]), 0
        rest = text[: match.start()] + " " + text[match.end():]
        bare = kind in ("half", "quarter_past", "quarter_to", "hhmm", "oclock")
        if bare and hour < 12 and _LATER_DAYPART.search(rest):
            hour += 12
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            return None, text
        return time(hour, minute), rest
    return None, text


def resolve(text: str, now: datetime, tz: ZoneInfo) -> ResolvedDate:
    """Resolve `text` relative to `now` (aware) in `tz`; parts not present come back None."""
    local_now = now.astimezone(tz).replace(tzinfo=None, microsecond=0)
    lowered = " ".join(text.lower().replace(",", " ").split())
    found_time, rest = _extract_time(lowered)
    rest = _LATER_DAYPART.sub(" ", rest)
    rest = " ".join(_FILLER.sub(" ", rest).split())
    found_date: date | None = None
    if rest:
        settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now,
                    "RETURN_AS_TIMEZONE_AWARE": False}
        parsed = dateparser.parse(rest, languages=["en"], settings=settings)
        if parsed is None:
            hits = dateparser.search.search_dates(rest, languages=["en"], settings=settings)
            parsed = hits[0][1] if hits else None
        if parsed is not None:
            found_date = parsed.date()
    return ResolvedDate(found_date, found_time)
