"""Typed values read from a user's words: numbers, yes/no and a choice among options.

Pure functions, so a slot's value can be checked without the model: each answers the value or
None when the words hold none, or hold two that disagree ("4 or 5", "no, yes"): the caller asks
again rather than guess. Speech recognizers write numbers as digits or as words ("six",
"twenty-one", "a dozen"), so both are read, and `number_words_in` lets a value the model
normalised to digits ("6") be checked against what the user really said ("six").
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SMALL = _UNITS | _TEENS | _TENS
# "one" after these is a pronoun ("that one", "no one"), not a count.
_DETERMINERS = {"the", "that", "this", "which", "each", "every", "any", "no", "another",
                "other", "some"}

_TOKEN = re.compile(r"(?:(?<=\s)|^)-\d+(?:\.\d+)?(?!\d)"  # -3
                    r"|(?<![\w.])\d+(?:\.\d+)?(?:st|nd|rd|th)?(?!\d)"  # 4, 4.5, 5th
                    r"|[a-z]+")

Number = int | float


# Letters a number may carry ("5th", "9am", "2kg", "10km", "3x"); a number glued to other
# letters is part of a code ("OL16 1LW", "B12"), not a number said.
_SUFFIXES = {"st", "nd", "rd", "th", "am", "pm", "kg", "kgs", "kilo", "kilos", "g", "km", "m",
             "mm", "cm", "mi", "h", "hr", "hrs", "min", "mins", "s", "lb", "lbs", "k", "x", "ish",
             "ml", "l", "yo", "yr", "yrs", "ft", "in", "oz", "p"}
_GLUED = re.compile(r"(?<![\w.])\d+(?:\.\d+)?([a-z]+)\w*")


def _without_codes(text: str) -> str:
    return _GLUED.sub(lambda m: m.group(0) if m.group(0)[m.start(1) - m.start():].isalpha()
                      and m.group(1) in _SUFFIXES else " ", text)


def _tokens(text: str) -> list[str]:
    s = _without_codes(text.lower().replace("\u2019", "'").replace("'", ""))
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,200
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)  # twenty-one
    return _TOKEN.findall(s)


def _is_digits(token: str) -> bool:
    """A written number; "5th" is not one (ordinals are not counts)."""
    return token[-1].isdigit()


def _is_pronoun(tokens: list[str], i: int) -> bool:
    """"that one", "the mixed one", "a big one": "one" standing for a thing, not a count."""
    if i > 1 and tokens[i - 2:i] in (["just", "the"], ["only", "the"]) and \
            not set(tokens[i + 1:i + 2]) & {"with", "that", "which", "in", "on", "from", "for",
                                            "by", "near", "at", "who"}:
        return False  # "just the one (, an upright piano)": a count of one
    if i > 0 and tokens[i - 1] in _DETERMINERS:
        return True
    return (i > 1 and tokens[i - 2] in _DETERMINERS | {"a", "an"}
            and tokens[i - 1].isalpha() and tokens[i - 1] not in _SMALL
            and tokens[i - 1] not in ("and", "or", "just", "only"))


def _and_a_half(tokens: list[str], j: int, value: float) -> tuple[float, int]:
    if tokens[j:j + 3] == ["and", "a", "half"]:
        return value + 0.5, j + 3
    return value, j


def _read_words(tokens: list[str], i: int) -> tuple[float, int] | None:
    """The number spelled from tokens[i] on, and where it ends; None if none starts there."""
    n = len(tokens)
    first, following = tokens[i], tokens[i + 1] if i + 1 < n else ""
    if first == "half" and following == "dozen":
        return 6, i + 2
    if first == "half" and tokens[i + 1:i + 3] == ["a", "dozen"]:
        return 6, i + 3
    if first in ("a", "an") and following in ("couple", "pair"):
        return 2, i + 2
    if first in ("couple", "pair"):
        return 2, i + 1
    if first == "zero":
        return 0, i + 1
    if first == "one" and _is_pronoun(tokens, i) and \
            following not in ("hundred", "thousand", "million", "billion"):
        return None
    total, current, last, j = 0.0, 0.0, "", i
    scale_cap = float("inf")
    if first in ("a", "an"):
        if following not in ("hundred", "dozen", *_SCALES):
            return None
        current, last, j = 1, "unit", i + 1
    while j < n:
        word = tokens[j]
        if word in _UNITS and last in ("", "tens", "hundred", "scale"):
            current, last = current + _UNITS[word], "unit"
        elif word in _TEENS and last in ("", "hundred", "scale"):
            current, last = current + _TEENS[word], "teen"
        elif word in _TENS and last in ("", "hundred", "scale"):
            current, last = current + _TENS[word], "tens"
        elif word == "hundred" and last in ("", "unit", "teen", "tens") and current < 100:
            current, last = (current or 1) * 100, "hundred"
        elif word in _SCALES and _SCALES[word] < scale_cap and last != "scale":
            scale_cap = _SCALES[word]
            total, current, last = total + (current or 1) * scale_cap, 0, "scale"
        elif word == "dozen" and last in ("unit", "teen", "tens"):
            current, last = current * 12, "dozen"
        elif (word == "and" and last in ("hundred", "scale") and j + 1 < n
              and tokens[j + 1] in _SMALL):
            pass  # "a hundred and five"
        else:
            break
        j += 1
    if not last:
        return None
    return _and_a_half(tokens, j, total + current)


def _read_number(tokens: list[str], i: int) -> tuple[float, int] | None:
    token = tokens[i]
    if token == "minus" and i + 1 < len(tokens):
        found = _read_number(tokens, i + 1)
        return (-found[0], found[1]) if found else None
    if not _is_digits(token):
        return _read_words(tokens, i)
    value, j = float(token), i + 1
    multipliers = {**_SCALES, "hundred": 100, "dozen": 12}
    if j < len(tokens) and tokens[j] in multipliers:  # "2 thousand", "1.5 million"
        value, j = value * multipliers[tokens[j]], j + 1
    return _and_a_half(tokens, j, value)


def _numbers(text: str) -> list[float]:
    """Every number said in `text`, in order."""
    tokens, found, i = _tokens(text), [], 0
    while i < len(tokens):
        read = _read_number(tokens, i)
        if read is None:
            i += 1
            continue
        found.append(read[0])
        i = read[1]
    return found


def _typed(value: float) -> Number:
    return int(value) if float(value).is_integer() else value


def _canonical(value: float) -> str:
    return str(_typed(value))


def parse_number(text: str) -> Number | None:
    """The one number in `text` (digits or words; int when whole); None for none or two."""
    found = set(_numbers(text))
    return _typed(found.pop()) if len(found) == 1 else None


def parse_integer(text: str) -> int | None:
    """As `parse_number`, but only a whole number: "2.5 people" is not an answer."""
    number = parse_number(text)
    return number if isinstance(number, int) else None


def times_said(number: Number, text: str) -> int:
    """How many times `text` says this number ("two ... 2 pm" says 2 twice)."""
    return sum(1 for value in _numbers(text) if value == number)


def number_words_in(text: str) -> set[str]:
    """Every number said in `text` as canonical digits ("six" -> "6", "2.50" -> "2.5")."""
    return {_canonical(value) for value in _numbers(text)}


def same_number(a: str, b: str) -> bool:
    """Whether two texts each hold one number and it is the same ("6" and "six")."""
    first = parse_number(a)
    return first is not None and first == parse_number(b)


def _plain_words(text: str) -> str:
    """Lower-case words separated by single spaces; apostrophes dropped ("don't" -> "dont")."""
    s = text.lower().replace("\u2019", "'").replace("'", "")
    return " ".join(re.sub(r"[^\w]+", " ", s).split())


_YES_WORDS = ["yes", "yeah", "yea", "yep", "yup", "ya", "sure", "correct", "right", "absolutely",
              "ok", "okay", "alright", "definitely", "certainly", "affirmative", "indeed",
              "exactly", "fine", "true", "mhm"]
_YES_PHRASES = ["that's right", "that is right", "that's correct", "that is correct",
                "please do", "all right", "of course", "i do", "i would", "i will", "i am",
                "it is", "sounds good", "go ahead", "why not", "no problem", "not a problem",
                "no worries", "no doubt", "don't mind", "do not mind", "yes please",
                "i think so", "uh huh", "mm hmm"]
_NO_PHRASES = ["no", "nope", "nah", "negative", "never", "not", "wrong", "incorrect", "false",
               "not really", "no thanks", "no thank you", "not at all", "no way", "not yet",
               "don't", "do not", "i don't", "i do not", "please don't", "please do not",
               "i won't", "i will not", "i wouldn't", "i would not", "i'm not", "i am not",
               "it isn't", "it is not", "that's wrong", "of course not", "absolutely not",
               "definitely not", "certainly not"]
_UNSURE_PHRASES = ["not sure", "i'm not sure", "i am not sure", "i don't know", "don't know",
                   "dunno", "maybe", "perhaps", "thank you", "thanks"]


def _polarity_phrases() -> list[tuple[str, bool | None]]:
    phrases: dict[str, bool | None] = {}
    for words, polarity in [(_YES_WORDS + _YES_PHRASES, True), (_NO_PHRASES, False)]:
        for phrase in words:
            phrases[_plain_words(phrase)] = polarity
    for word in _YES_WORDS:
        phrases.setdefault(f"not {word}", False)  # "not correct"
    for phrase in _UNSURE_PHRASES:
        phrases[_plain_words(phrase)] = None
    # Longest first, so "no problem" and "i dont" are taken before "no" and "i do".
    return sorted(phrases.items(), key=lambda item: (-len(item[0].split()), -len(item[0])))


_POLARITY = [(re.compile(rf"(?<!\S){re.escape(phrase)}(?!\S)"), polarity)
             for phrase, polarity in _polarity_phrases()]


def parse_boolean(text: str) -> bool | None:
    """Yes or no in English words; None when neither is said, or both ("no, yes")."""
    words, said = _plain_words(text), set[bool | None]()
    for pattern, polarity in _POLARITY:
        if pattern.search(words):
            said.add(polarity)
            words = pattern.sub(" | ", words)
    said.discard(None)
    return said.pop() if len(said) == 1 else None


def match_choice(text: str, choices: list[tuple[str, list[str]]],
                 threshold: float = 85) -> str | None:
    """The choice value the text names (its value or a synonym as whole words, else the
    closest misspelling at `threshold` or above); None when none, or two equally."""
    words = _plain_words(text)
    if not words:
        return None
    terms = [(value, term) for value, synonyms in choices
             for term in {_plain_words(t) for t in (value, *synonyms)} if term]
    exact = [(m.start(), m.end(), value) for value, term in terms
             for m in re.finditer(rf"(?<!\S){re.escape(term)}(?!\S)", words)]
    if exact:
        # A phrase wins over another value's shorter term inside it, so a synonym may contain
        # a word that names a different value; two separate values are ambiguous.
        kept = {value for start, end, value in exact
                if not any(v != value and s <= start and end <= e and e - s > end - start
                           for s, e, v in exact)}
        return kept.pop() if len(kept) == 1 else None
    split = words.split()
    longest = max((len(term.split()) for _, term in terms), default=0) + 1
    grams = [" ".join(split[i:i + size]) for size in range(1, longest + 1)
             for i in range(len(split) - size + 1)]
    best: dict[str, float] = {}
    for value, term in terms:
        found = process.extractOne(term, grams, scorer=fuzz.ratio, score_cutoff=threshold)
        if found is not None:
            best[value] = max(best.get(value, 0.0), found[1])
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]
