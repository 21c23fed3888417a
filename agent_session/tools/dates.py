"""Resolve spoken dates and times ("tomorrow at 9am", "next Sunday", "half past ten in the
morning", "930 in the morning") to a calendar date and a 24-hour time, relative to now in the
service's time zone.

The words come from speech recognizers, which end sentences with a dot ("at 9."), write times
as "930", "9 30", "9.30" or "nine o'clock" and rarely say am/pm. So the time of day is read
first with patterns, and never guessed: an hour said without am/pm or a day part comes back
with `bare_hour` set (the caller asks "morning or evening?"), and words that contradict each
other ("7am evening") come back as `conflict` with no time. dateparser would fill in the
current time, or turn a lone "9." into a day of month, so it only sees what is left once the
times are removed, and only when a date word is left at all.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dateparser
import dateparser.search

_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9}
_HOUR_WORDS = {**_UNITS, "ten": 10, "eleven": 11, "twelve": 12}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}


def _minute_words() -> dict[str, int]:
    """Minutes as said after an hour ("eight fifteen", "ten oh five"); lone units are left out
    because "eight five" is not how a time is said."""
    words = dict(_TEENS)
    for tens_word, tens in _TENS.items():
        words[tens_word] = tens
        for unit_word, unit in _UNITS.items():
            words[f"{tens_word} {unit_word}"] = tens + unit
    for unit_word, unit in _UNITS.items():
        words[f"oh {unit_word}"] = unit
        words[f"o {unit_word}"] = unit
    return words


_MINUTE_WORDS = _minute_words()
_PAST_TO_MINUTES = {**_MINUTE_WORDS, **_UNITS, "half": 30, "quarter": 15, "a quarter": 15}

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
             "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
             "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30}
for _unit_ordinal, _unit in list(_ORDINALS.items())[:9]:
    _ORDINALS[f"twenty {_unit_ordinal}"] = 20 + _unit
_ORDINALS["thirty first"] = 31

_WEEKDAYS = {name: index for index, names in enumerate([
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
    ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
    ("sunday", "sun")]) for name in names}
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun",
           "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
# Words after a number that make it a count, not a clock hour ("in 3 days", "for 2 people").
_COUNT_NOUNS = {"day", "days", "week", "weeks", "month", "months", "year", "years", "hour",
                "hours", "hr", "hrs", "minute", "minutes", "min", "mins", "fortnight",
                "fortnights", "people", "persons", "person", "passengers", "guests", "adults",
                "children", "kids", "bags", "seats"}


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest first so "twenty five" wins over "twenty"."""
    return "|".join(sorted((re.escape(word) for word in words), key=len, reverse=True))


_EDGE_BEFORE = r"(?<![\w:/.-])"  # not inside a word, a clock time or a written date
_EDGE_AFTER = r"(?![\w:/.-])"
_PREFIX = r"(?:(?P<at>at|by|around|about|for)\s)?"
_MER = r"(?P<oclock>\s?oclock)?(?:\s?(?P<mer>am|pm))?"

_NOON = re.compile(rf"{_EDGE_BEFORE}{_PREFIX}(?:12\s?|twelve\s)?(?:noon|midday|mid day)\b")
_MIDNIGHT = re.compile(rf"{_EDGE_BEFORE}{_PREFIX}(?:12\s?|twelve\s)?midnight\b")
_PAST_TO = re.compile(
    rf"{_EDGE_BEFORE}{_PREFIX}(?P<min>{_alt(_PAST_TO_MINUTES)}|\d{{1,2}})"
    rf"(?P<minutes>\s(?:minutes?|mins?))?\s(?P<rel>past|after|to)\s"
    rf"(?P<hour>\d{{1,2}}|{_alt(_HOUR_WORDS)}){_MER}{_EDGE_AFTER}")
_CLOCK = re.compile(
    rf"{_EDGE_BEFORE}{_PREFIX}(?:"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})"
    r"|(?P<h2>\d{1,2})\s(?P<m2>[0-5]\d)"
    r"|(?P<hm>\d{3,4})"
    r"|(?P<h3>\d{1,2})"
    rf"|(?P<hw>{_alt(_HOUR_WORDS)})(?:\s(?P<mw>{_alt(_MINUTE_WORDS)}))?"
    rf"){_MER}{_EDGE_AFTER}")
_DAYPART = re.compile(
    r"\b(?:(?:in|during)\sthe\s|(?P<this>this)\s|at\s)?"
    r"(?P<part>morning|afternoon|evening|tonight|night)\b")
_DAYPART_MERIDIEM = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm",
                     "tonight": "pm"}
_FILLER = re.compile(
    r"\b(on|at|for|by|around|about|please|the|of|booking|book|ride|cab|am|pm|oclock)\b")
_DATE_CUE = re.compile(
    r"\b(?:today|tomorrow|tmrw|yesterday|days?|weeks?|weekend|fortnight|months?|years?|next|"
    rf"this|coming|last|{_alt(_WEEKDAYS)}|{_alt(_MONTHS)})\b"
    r"|\d(?:st|nd|rd|th)\b|\d[-/.]\d|\b\d{4}\b")
_ORDINAL_WORDS = re.compile(rf"\b({_alt(_ORDINALS)})\b")
_DAY_OF_MONTH = re.compile(
    rf"^(?:(?P<wd1>{_alt(_WEEKDAYS)})\s)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)"
    rf"(?:\s(?P<wd2>{_alt(_WEEKDAYS)}))?$")
_RELATIVE_PHRASES = [(re.compile(r"\bday after tomorrow\b"), "in 2 days"),
                     (re.compile(r"\bday before yesterday\b"), "2 days ago")]


@dataclass(frozen=True)
class ResolvedDate:
    """What the words say. `time` is the literal reading; when `bare_hour` is set the hour was
    said without am/pm or a day part, so the time may also be 12 hours later and the caller
    must ask. `conflict` explains contradicting words; `time` is then None."""

    date: date | None
    time: time | None
    bare_hour: int | None = None
    conflict: str | None = None


@dataclass(frozen=True)
class _Reading:
    """One time of day as said: the named hour, minutes relative to it ("quarter to": -15)."""

    said: str
    hour: int
    minutes: int
    meridiem: str | None = None
    fixed: bool = False  # noon, midnight: complete by themselves
    padded: bool = False  # "09:30", "0930": a 24-hour clock, so not bare


@dataclass(frozen=True)
class _Settled:
    time: time | None
    bare_hour: int | None = None
    conflict: str | None = None


def _normalize(text: str) -> str:
    """Lower case, one spelling for a.m./o'clock, "9.30" as "9:30", sentence dots dropped."""
    s = text.lower().replace("\u2019", "'")
    s = re.sub(r"\b([ap])\s?\.\s?m\b\.?", r"\1m", s)
    s = re.sub(r"\bo'?\s?clock\b", "oclock", s)
    s = re.sub(r"(?<![\d.])(\d{1,2})\.([0-5]\d)(?!\d|\.\d)", r"\1:\2", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)
    s = re.sub(r"[,;!?\"()]", " ", s)
    return " ".join(s.split())


def _word_before(text: str, index: int) -> str:
    words = text[:index].split()
    return words[-1] if words else ""


def _words_after(text: str, index: int) -> list[str]:
    return text[index:].split()[:2]


def _counts_or_dates(text: str, match: re.Match[str]) -> bool:
    """Whether a number is a day of month or a count ("12 March", "the 5", "in 3 days")."""
    after = _words_after(text, match.end())
    following = after[0] if after else ""
    if following in _MONTHS or following in _COUNT_NOUNS:
        return True
    if following == "of" and len(after) > 1 and after[1] in _MONTHS:
        return True
    return not match.group("at") and _word_before(text, match.start()) in (_MONTHS | {"the"})


def _hour_value(token: str) -> int:
    return _HOUR_WORDS[token] if token in _HOUR_WORDS else int(token)


def _said(match: re.Match[str]) -> str:
    start = match.end("at") + 1 if match.group("at") else match.start()
    return match.string[start:match.end()]


def _clock_reading(text: str, match: re.Match[str]) -> _Reading | None:
    g = match.groupdict()
    explicit = bool(g["mer"] or g["oclock"])
    if not explicit and _counts_or_dates(text, match):
        return None
    if g["h1"] is not None or g["h2"] is not None:
        hour_text = g["h1"] if g["h1"] is not None else g["h2"]
        hour, minute = int(hour_text), int(g["m1"] if g["m1"] is not None else g["m2"])
        padded = len(hour_text) == 2 and hour_text.startswith("0")
    elif g["hm"] is not None:
        digits = g["hm"]
        hour, minute = int(digits[:-2]), int(digits[-2:])
        padded = digits.startswith("0")
        if len(digits) == 4 and hour > 12 and not (g["at"] or explicit):
            return None  # "2027" is a year, not 20:27
    elif g["h3"] is not None:
        hour, minute, padded = int(g["h3"]), 0, g["h3"].startswith("0")
    else:
        hour, padded = _HOUR_WORDS[g["hw"]], False
        minute = _MINUTE_WORDS[g["mw"]] if g["mw"] else 0
    if hour > 23 or minute > 59:
        return None
    return _Reading(_said(match), hour, minute, g["mer"], padded=padded)


def _past_to_reading(text: str, match: re.Match[str]) -> _Reading | None:
    g = match.groupdict()
    said_minutes = g["min"]
    minutes = (_PAST_TO_MINUTES[said_minutes] if said_minutes in _PAST_TO_MINUTES
               else int(said_minutes))
    hour = _hour_value(g["hour"])
    if not 1 <= minutes <= 59 or hour > 23:
        return None
    if g["rel"] == "to":
        # "5 to 7" is a range unless it is plainly a clock idiom ("ten to six").
        idiom = g["minutes"] or minutes in (5, 10, 15, 20, 25)
        if (not idiom or said_minutes == "half"
                or _word_before(text, match.start()) in ("from", "between")):
            return None
        minutes = -minutes
    return _Reading(_said(match), hour, minutes, g["mer"])


_Reader = Callable[[str, re.Match[str]], "_Reading | None"]


def _fixed_reading(hour: int) -> _Reader:
    def read(_text: str, match: re.Match[str]) -> _Reading:
        return _Reading(_said(match), hour, 0, fixed=True)
    return read


_TIME_PATTERNS: list[tuple[re.Pattern[str], _Reader]] = [
    (_NOON, _fixed_reading(12)), (_MIDNIGHT, _fixed_reading(0)),
    (_PAST_TO, _past_to_reading), (_CLOCK, _clock_reading)]


def _blank(text: str, start: int, end: int) -> str:
    """`text` with a span replaced by spaces, so later matches keep their positions."""
    return text[:start] + " " * (end - start) + text[end:]


def _find_times(text: str) -> tuple[list[_Reading], str]:
    """Every time of day said, strongest patterns first, and the text without them."""
    readings: list[_Reading] = []
    for pattern, read in _TIME_PATTERNS:
        for match in list(pattern.finditer(text)):
            reading = read(text, match)
            if reading is not None:
                readings.append(reading)
                text = _blank(text, match.start(), match.end())
    return readings, text


def _settle(reading: _Reading, daypart: tuple[str, str] | None) -> _Settled:
    """The 24-hour time for one reading, given the day part said elsewhere (word, am/pm)."""
    if reading.fixed:
        return _Settled(time(reading.hour, 0))
    hour, explicit = reading.hour, reading.meridiem
    part_word, part_meridiem = daypart if daypart else (None, None)
    if explicit and part_meridiem and explicit != part_meridiem:
        return _Settled(None, conflict=f"'{reading.said}' contradicts '{part_word}'.")
    if hour == 0 or hour > 12:  # a 24-hour clock reading: am/pm can only confirm it
        if (hour > 12 and "am" in (explicit, part_meridiem)) or (hour == 0 and explicit == "pm"):
            words = f"'{reading.said}'" + (f" and '{part_word}'" if part_word else "")
            return _Settled(None, conflict=f"{words} do not fit together.")
        total, bare = hour * 60 + reading.minutes, False
    else:
        meridiem = explicit or part_meridiem
        if meridiem == "pm":
            at_night = not explicit and part_word in ("night", "tonight") and hour == 12
            hour = 0 if at_night else hour % 12 + 12
        elif meridiem == "am":
            hour %= 12
        total, bare = hour * 60 + reading.minutes, meridiem is None and not reading.padded
    total %= 24 * 60
    if bare and total < 60:
        total += 12 * 60  # "quarter to one": 12:45, the other reading being 00:45
    settled = time(total // 60, total % 60)
    return _Settled(settled, settled.hour if bare else None)


def _next_day_of_month(day: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _day_of_month(rest: str, today: date) -> tuple[date | None, str | None] | None:
    """"the 5th" or "Friday the 4th" (dateparser reads "5th" as May); None if not that form."""
    match = _DAY_OF_MONTH.match(rest)
    if match is None:
        return None
    found = _next_day_of_month(int(match.group("day")), today)
    weekday = match.group("wd1") or match.group("wd2")
    if found is not None and weekday and found.weekday() != _WEEKDAYS[weekday]:
        return None, (f"The next {_ordinal(int(match.group('day')))} is a {found.strftime('%A')}, "
                      f"not a {calendar.day_name[_WEEKDAYS[weekday]]}.")
    return found, None


def _ordinal(day: int) -> str:
    """12 -> "12th", 22 -> "22nd": "fifth" becomes a form dateparser reads."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _find_date(rest: str, local_now: datetime) -> tuple[date | None, str | None]:
    """The date in what is left of the text once times and day parts are gone."""
    for pattern, replacement in _RELATIVE_PHRASES:
        rest = pattern.sub(replacement, rest)
    rest = _ORDINAL_WORDS.sub(lambda m: _ordinal(_ORDINALS[m.group(1)]), rest)
    rest = " ".join(_FILLER.sub(" ", rest).split())
    if not rest or not _DATE_CUE.search(rest):
        return None, None  # a lone number is a time or nothing, never a day of month
    by_day = _day_of_month(rest, local_now.date())
    if by_day is not None:
        return by_day
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now,
                "RETURN_AS_TIMEZONE_AWARE": False}
    parsed = dateparser.parse(rest, languages=["en"], settings=settings)
    if parsed is not None:
        return parsed.date(), None
    hits = dateparser.search.search_dates(rest, languages=["en"], settings=settings) or []
    found = {hit.date(): words for words, hit in hits}
    if len(found) > 1:
        said = [f"'{words}'" for words in found.values()]
        return None, f"{' and '.join(said)} are different dates."
    return (next(iter(found)) if found else None), None


def resolve(text: str, now: datetime, tz: ZoneInfo) -> ResolvedDate:
    """Resolve `text` relative to `now` (aware) in `tz`; parts not present come back None."""
    local_now = now.astimezone(tz).replace(tzinfo=None, microsecond=0)
    readings, rest = _find_times(_normalize(text))
    dayparts = [(m.group("part"), bool(m.group("this"))) for m in _DAYPART.finditer(rest)]
    rest = _DAYPART.sub(" ", rest)
    conflicts: list[str] = []
    meridiems = {_DAYPART_MERIDIEM[part]: part for part, _ in dayparts}
    if len(meridiems) > 1:
        conflicts.append(f"'{meridiems['am']}' contradicts '{meridiems['pm']}'.")
    daypart = None
    if len(meridiems) == 1:
        (meridiem, part), = meridiems.items()
        daypart = (part, meridiem)
    settled = [_settle(reading, daypart) for reading in readings]
    conflicts += [s.conflict for s in settled if s.conflict]
    times = {s.time: s for s in settled if s.time is not None}
    if len(times) > 1:
        said = " and ".join(f"'{r.said}'" for r in readings)
        conflicts.append(f"{said} are different times.")
    found_date, date_conflict = _find_date(rest, local_now)
    if date_conflict:
        conflicts.append(date_conflict)
    if found_date is None and any(part == "tonight" or this for part, this in dayparts):
        found_date = local_now.date()
    if conflicts:
        return ResolvedDate(found_date, None, None, " ".join(conflicts))
    if not times:
        return ResolvedDate(found_date, None)
    only = next(iter(times.values()))
    return ResolvedDate(found_date, only.time, only.bare_hour)
