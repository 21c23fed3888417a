"""Typed values the model left out of a long message, found by the service's own readers.

The embedded model sometimes returns two of six values from "a double room for 2 guests for 3
nights from tomorrow, arriving at 6 pm, under Ada Lovelace". The words for a date, a time or a
count are plain enough to find without it: a count is a number followed by a word of its slot
("2 guests", "three nights", "four people"), a date or a time a phrase of the usual shapes. A
phrase is offered only when exactly one empty slot of its type could take it, and the slot's
own reader still decides (bounds, a bare hour asked back, a day in the past refused).
"""

from __future__ import annotations

import re

from .slots import Slot, tokens

_NUMBER = (r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
           r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|"
           r"a couple of|a dozen|half a dozen)")
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|"
          r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)")
# An ordinal is a day of the month unless a noun follows it ("the 3rd floor", "5th row").
_NOT_A_DAY = (r"(?!\s+(?!(?:of|at|in|on|and|for|please|then|or|instead|this|next|but|is|"
              r"would|will|if)\b)[a-z])")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
             "ground": 0}
_DATE = re.compile(
    rf"\b(?:the day after tomorrow|today|tomorrow|tonight|(?:next|this|coming) {_WEEKDAY}|"
    rf"(?:on )?{_WEEKDAY}|in {_NUMBER} (?:days?|weeks?)|(?:next|this) week(?:end)?|"
    rf"(?:the )?\d{{1,2}}(?:st|nd|rd|th)(?: of {_MONTH}| {_MONTH}|{_NOT_A_DAY})|"
    rf"{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}} {_MONTH})\b", re.IGNORECASE)
_HOUR = r"(?:\d{1,2}(?:[:.]\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# A bare hour after "at": an hour of the day, not a house number ("at 30 Drake Street",
# "at 5 Silver Street": a number before a capitalised word is an address).
_BARE_HOUR = (r"(?:(?:[01]?\d|2[0-3])(?:[:.]\d{2})?|one|two|three|four|five|six|seven|eight|nine|"
              r"ten|eleven|twelve)(?!\d|[:.]\d)(?!\s+(?-i:[A-Z]))"
              r"(?!\s*(?:kg|kgs|kilos?|kilograms?|lbs?|pounds?|grams?|km|miles?|minutes?|"
              r"mins?|hours?|hrs?|days?|weeks?|nights?|months?|years?|people|persons|guests|"
              r"percent|%)\b)")  # "about 12 kg" is a weight
_DAYPART = (r"(?:\s*(?:am|pm|a\.m\.|p\.m\.)|\s+o'?clock|\s+in the (?:morning|afternoon|evening)"
            r"|\s+at night)")
_TIME = re.compile(  # the fuller forms first: "at 6 pm" is "6 pm", not a bare "at 6"
    rf"\b(?:(?:at|around|about|by)\s+)?(?:{_HOUR}{_DAYPART}+|\d{{1,2}}:\d{{2}}|noon|midday|"
    rf"midnight|(?:half past|quarter past|quarter to) {_HOUR}{_DAYPART}*|"
    rf"(?<=at ){_BARE_HOUR}|(?<=around ){_BARE_HOUR}|(?<=about ){_BARE_HOUR})\b",
    re.IGNORECASE)
_STOP = {"the", "and", "how", "many", "much", "what", "which", "will", "would", "with", "for",
         "you", "your", "that", "this", "are", "from", "into", "stay", "number"}


def _forms(text: str) -> set[str]:
    words = {w for w in tokens(text) if len(w) >= 3 and w not in _STOP}
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3} | \
        {f"{w}s" for w in words}


def _cues(slot: Slot, others: list[Slot]) -> set[str]:
    """The slot's name words, and its description's words that name no other slot."""
    taken = set().union(*(_forms(o.name.replace("_", " ")) for o in others if o is not slot))
    return _forms(slot.name.replace("_", " ")) | (_forms(slot.description or "") - taken)


def count_phrase(slot: Slot, message: str, others: list[Slot] = ()) -> str | None:
    """"2 guests", "three nights", "four people": a number right before a word of the slot."""
    cues = _cues(slot, list(others))
    for found in re.finditer(rf"\b({_NUMBER})\s+([a-z]+)(?:'s?)?(?:\s+([a-z]+))?\b", message,
                             re.IGNORECASE):  # "one kids' bike"
        noun = found.group(2).lower()
        if noun in cues or (len(noun) >= 3 and any(c.startswith(noun) for c in cues)):
            return message[found.start():found.end(2)]  # "2 guests", "2 bed" (bedrooms)
        if found.group(3) and found.group(3).lower() in cues:  # "2 adult guests"
            return found.group(0)
    return None


# Words of a yes/no slot's name that say nothing of their own ("signature_required").
_GENERIC = {"is", "are", "required", "needed", "need", "needs", "wanted", "want", "wants", "has",
            "have", "ok", "okay", "allowed", "preferred", "yes", "no", "do", "does", "the", "a",
            "an", "any", "flag", "bool"}
_NEGATION = re.compile(r"\b(?:not|no|never|without|don'?t|doesn'?t|isn'?t|aren'?t|won'?t|"
                       r"wasn'?t|nothing)\b|n't\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;!?,]|\bbut\b", re.IGNORECASE)


def _yes_no_cues(slot: Slot) -> list[str]:
    return [w for w in tokens(slot.name.replace("_", " ")) if w not in _GENERIC]


def _has_cues(cues: list[str], clause: str) -> bool:
    said = set(tokens(clause))
    return bool(cues) and all(c in said or f"{c}s" in said or c.rstrip("s") in said
                              for c in cues)


def yes_no_phrase(slot: Slot, message: str) -> str | None:
    """The one clause that says a yes/no slot's own words ("It's not urgent", "no signature
    needed", "wheelchair access please"), or None."""
    cues = _yes_no_cues(slot)
    clauses = [c.strip() for c in _CLAUSE.split(message) if _has_cues(cues, c)]
    return clauses[0] if len(clauses) == 1 else None


def said_yes_no(slot: Slot, words: str) -> bool | None:
    """A yes/no slot answered with its own words: "urgent" is yes, "not urgent" no; None when
    the words do not name the slot."""
    cues = _yes_no_cues(slot)
    if not _has_cues(cues, words):
        return None
    # up to the end of the last cue word, with its "n't" ("I can't work"): a negation there
    # makes it a no
    end = max((m.end() for c in cues for m in re.finditer(
        rf"\b{re.escape(c.rstrip('s'))}\w*(?:n't|n’t)?", words, re.IGNORECASE)),
        default=len(words))
    return _NEGATION.search(words[:end]) is None


_JOINS = re.compile(r"[\s,]*(?:the\s+)?", re.IGNORECASE)
_YEAR = re.compile(r",?\s*\d{4}\b")


def ordinal_count(slot: Slot, words: str) -> int | None:
    """An ordinal said with the slot's own noun: "the 4th floor" (or "fourth floor", "ground
    floor") is 4 for `floor`; a bare "the 5th" is no count."""
    cues = _cues(slot, [])
    for found in re.finditer(r"\b(?:(\d{1,3})(?:st|nd|rd|th)|([a-z]+))\s+([a-z]+)", words,
                             re.IGNORECASE):
        if found.group(3).lower() not in cues:
            continue
        if found.group(1):
            return int(found.group(1))
        if found.group(2).lower() in _ORDINALS:
            return _ORDINALS[found.group(2).lower()]
    return None


def phrases(kind: str, message: str) -> list[str]:
    """The date (or time) phrases in the message; the parts of one date are one phrase
    ("Friday 16 July 2027", "Monday the 5th")."""
    pattern = _DATE if kind == "date" else _TIME
    spans = [[m.start(), m.end()] for m in pattern.finditer(message)]
    if kind == "date":
        joined: list[list[int]] = []
        for span in spans:
            if joined and _JOINS.fullmatch(message[joined[-1][1]:span[0]]):
                joined[-1][1] = span[1]
            else:
                joined.append(span)
        for span in joined:
            year = _YEAR.match(message, span[1])
            if year:
                span[1] = year.end()
        spans = joined
    return [message[a:b] for a, b in spans]


def missed(slots: list[Slot], message: str, every: list[Slot] = ()) -> dict[str, str]:
    """Words for the empty typed `slots` the message plainly holds: slot name -> words. A
    count's nouns are told apart from `every` count of the agent's, filled or not ("two
    parcels" is the parcel count's, never the weight's)."""
    found: dict[str, str] = {}
    for kind in ("date", "time"):
        open_slots = [s for s in slots if s.type == kind]
        said = phrases(kind, message)
        if len(open_slots) == 1 and len(said) == 1:
            found[open_slots[0].name] = said[0]
    for slot in slots:
        if slot.type == "boolean" and (phrase := yes_no_phrase(slot, message)) is not None:
            found[slot.name] = phrase
    counts = [s for s in (every or slots) if s.type in ("integer", "number")]
    for slot in [s for s in slots if s.type in ("integer", "number")]:
        phrase = count_phrase(slot, message, counts)
        if phrase is not None and sum(count_phrase(other, phrase, counts) is not None
                                      for other in counts) == 1:
            found[slot.name] = phrase
    return found
