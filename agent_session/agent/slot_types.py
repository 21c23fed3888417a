"""A slot's words read as its type: what the service parses by itself, so an agent's author
writes no code for counts, yes/no, dates, times and choices.

`read` answers a value (JSON-typed: 4, not "4"), a refusal with its reason, or a question to
ask back when the words could mean two things (an hour without am/pm, "7am evening"): never a
guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..tools import dates
from .form_state import PendingHour
from .slot_values import match_choice, parse_boolean, parse_integer, parse_number
from .slots import Slot
from .typed_finder import ordinal_count, said_yes_no


@dataclass(frozen=True)
class Reading:
    value: Any = None
    reason: str | None = None
    """Refused: the sentence that says why (the slot is asked again after it)."""
    clarify: str | None = None
    """Neither taken nor refused: ask this back."""
    pending: PendingHour | None = None
    unreadable: bool = False
    """Refused because the words hold no value of the type at all (not a bound or a past
    day): words the model gave a slot that was not asked are then dropped, not argued with."""

    @property
    def ok(self) -> bool:
        return self.reason is None and self.clarify is None


def _hour_words(hour: int, minute: int) -> str:
    return f"{hour}:{minute:02d}" if minute else str(hour)


def _bare(hour: int, minute: int, rule: str) -> int | None:
    """The 24-hour hour for a bare 1-12 hour under the slot's rule; None: ask."""
    if rule == "am":
        return 0 if hour == 12 else hour
    if rule == "pm":
        return hour if hour == 12 else hour + 12
    if rule == "daytime":
        return hour if 7 <= hour <= 12 else hour + 12
    return None


def ask_half(slot: Slot, hour: int, minute: int, said: str) -> Reading:
    shown = _hour_words(hour % 12 or 12, minute)
    return Reading(clarify=f"Is that {shown} in the morning or {shown} in the evening?",
                   pending=PendingHour(slot=slot.name, hour=hour % 12 or 12, minute=minute,
                                       said=said))


_HALF = re.compile(r"\b(?P<am>am|a\.m\.?|morning)\b|\b(?P<pm>pm|p\.m\.?|afternoon|evening|"
                   r"night|tonight)\b", re.IGNORECASE)


def settle_half(pending: PendingHour, message: str) -> str | None:
    """`HH:MM` when the message says which half of the day the pending hour is in."""
    found = {m.lastgroup for m in _HALF.finditer(message)}
    if len(found) != 1:
        return None
    said = {int(n) for n in re.findall(r"\b(\d{1,2})(?::\d{2})?\b", message)}
    if said and said != {pending.hour % 12 or 12}:
        return None  # "10 am" answers with another time: read as a time, not a half-day
    hour = pending.hour % 12 + (12 if found == {"pm"} else 0)
    return f"{hour:02d}:{pending.minute:02d}"


def read(slot: Slot, words: str, now: datetime, tz: ZoneInfo) -> Reading:
    """The words for `slot` read as its type, checked against its bounds."""
    kind = slot.type
    if kind in ("integer", "number"):
        number = parse_integer(words) if kind == "integer" else parse_number(words)
        if number is None:
            number = ordinal_count(slot, words)  # "the 4th floor"
        if number is None:
            whole = " whole" if kind == "integer" and parse_number(words) is not None else ""
            return Reading(reason=f"I need a{whole} number there, and I couldn't find one in "
                                  f"\u201c{words}\u201d.", unreadable=True)
        wrong_unit = _other_unit(slot, words)
        if wrong_unit is not None:
            return Reading(reason=wrong_unit)
        if slot.min is not None and number < slot.min:
            return Reading(reason=f"{number} is too few: the least is {_plain(slot.min)}.")
        if slot.max is not None and number > slot.max:
            return Reading(reason=f"{number} is too many: the most is {_plain(slot.max)}.")
        return Reading(number)
    if kind == "boolean":
        answer = parse_boolean(words)
        if answer is None:
            answer = said_yes_no(slot, words)  # "it's urgent"
        if answer is None:
            return Reading(reason="I didn't catch a yes or a no.", unreadable=True)
        return Reading(answer)
    if kind == "choice":
        value = match_choice(words, [(c.value, c.synonyms) for c in slot.choices])
        if value is None:
            return Reading(reason=f"\u201c{words}\u201d isn't one of the options: "
                                  f"{_options(slot)}.", unreadable=True)
        return Reading(value)
    if kind == "date":
        resolved = dates.resolve(words, now, tz)
        if resolved.date is None:
            return Reading(reason=f"I couldn't work out a date from \u201c{words}\u201d.",
                           unreadable=True)
        today = now.astimezone(tz).date()
        if slot.days == "future" and resolved.date < today:
            return Reading(reason=f"{resolved.date.isoformat()} is in the past.")
        day = resolved.date
        if slot.days == "past" and day > today and _MONTH_DAY.search(words) and \
                not re.search(r"\b\d{4}\b", words):
            # "March 14" for a past day is the last March 14, not the next
            day = day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) \
                else day
            if day <= today:
                return Reading(day.isoformat())
        if slot.days == "past" and resolved.date > today:
            return Reading(reason=f"{resolved.date.isoformat()} is in the future.")
        return Reading(resolved.date.isoformat())
    if kind == "time":
        return _read_time(slot, words, now, tz)
    if slot.pattern and not re.fullmatch(slot.pattern, words.strip()):
        part = matching_part(slot.pattern, words)
        if part is None:
            return Reading(reason=f"\u201c{words}\u201d doesn't look like {slot.description}.")
        return Reading(part)
    return Reading(words)


# Units of one kind of quantity: a number said in one is not a number in another ("2 days"
# for a slot counted in hours is no 2).
_UNITS = [
    {"minute": ("minute", "minutes", "min", "mins"), "hour": ("hour", "hours", "hr", "hrs"),
     "day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months"),
     "night": ("night", "nights")},
    {"kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
     "pound": ("pound", "pounds", "lb", "lbs"), "gram": ("gram", "grams")},
    {"km": ("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"),
     "mile": ("mile", "miles"), "metre": ("metre", "metres", "meter", "meters")}]


def _units_in(text: str, family: dict[str, tuple[str, ...]]) -> set[str]:
    said = set(re.findall(r"[a-z]+", text.lower()))
    return {unit for unit, forms in family.items() if said & set(forms)}


def _other_unit(slot: Slot, words: str) -> str | None:
    """The reason a number said in another unit than the slot's is refused, else None."""
    for family in _UNITS:
        own = _units_in(_declared(slot), family)
        said = _units_in(words, family)
        if len(own) == 1 and said and not said & own:
            unit = next(iter(own))
            return (f"\u201c{words}\u201d isn't in {unit}s: I need the number of "
                    f"{unit}s.")
    return None


def as_slot_type(slot: Slot, value: str | int | float | bool) -> Any:
    """What an agent's action gave for a slot, in the slot's JSON type (an age returned as 34
    or "34" is the integer 34); None when it is not of that type."""
    if slot.type in ("integer", "number"):
        if isinstance(value, bool):
            return None
        number = value if isinstance(value, int | float) else parse_number(value)
        if number is None or (slot.type == "integer" and float(number) != int(number)):
            return None
        return int(number) if slot.type == "integer" or float(number).is_integer() else number
    if slot.type == "boolean":
        return value if isinstance(value, bool) else parse_boolean(str(value))
    return str(value)


def unit_owner(slot: Slot, words: str, slots: list[Slot]) -> Slot | None:
    """The one other count slot counted in the unit these words say, when `slot` is counted
    in none of that kind ("45 kilos" given to the parcel count belongs to the weight in kg)."""
    for family in _UNITS:
        said = _units_in(words, family)
        if not said or _units_in(_declared(slot), family):
            continue
        owners = [o for o in slots if o is not slot and o.type in ("integer", "number")
                  and _units_in(_declared(o), family) & said]
        return owners[0] if len(owners) == 1 else None
    return None


def _declared(slot: Slot) -> str:
    return f"{slot.name.replace('_', ' ')} {slot.description or ''}"


_MONTH_DAY = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
                        r"\b\d{1,2}[/-]\d{1,2}\b", re.IGNORECASE)


def matching_part(pattern: str, words: str) -> str | None:
    """The one part of the words the pattern matches whole ("my number is 555-0182" for a
    phone pattern), else None."""
    bare = pattern.removeprefix("^").removesuffix("$")
    found = {m.group(0).strip() for m in re.finditer(rf"(?<!\w)(?:{bare})(?!\w)", words)}
    # The sentence's full stop is not part of it ("... maria.g@example.com."), where the
    # pattern matches without it.
    found = {f.rstrip(".,;!?") if re.fullmatch(pattern, f.rstrip(".,;!?")) else f
             for f in found}
    found = {f for f in found if f and re.fullmatch(pattern, f)}
    return found.pop() if len(found) == 1 else None


def _read_time(slot: Slot, words: str, now: datetime, tz: ZoneInfo) -> Reading:
    resolved = dates.resolve(words, now, tz)
    if resolved.conflict:
        first = re.search(r"\d{1,2}|[a-z]+", words.lower())
        number = parse_integer(first.group()) if first else None
        if number is not None and 1 <= number <= 12:
            ask = ask_half(slot, number, 0, words)
            return Reading(clarify=f"{resolved.conflict} {ask.clarify}", pending=ask.pending)
        return Reading(clarify=f"{resolved.conflict} What time did you mean?")
    if resolved.time is None:
        return Reading(reason=f"I couldn't work out a time from \u201c{words}\u201d.",
                       unreadable=True)
    if resolved.bare_hour is not None:
        hour = _bare(resolved.bare_hour, resolved.time.minute, slot.bare_hour)
        if hour is None:
            return ask_half(slot, resolved.bare_hour, resolved.time.minute, words)
        return Reading(f"{hour:02d}:{resolved.time.minute:02d}")
    return Reading(resolved.time.strftime("%H:%M"))


def _options(slot: Slot) -> str:
    values = [c.value for c in slot.choices]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
