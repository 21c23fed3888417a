"""What a user says to steer a conversation rather than to answer it, in the manner of Rasa
CALM's patterns: asking for the question again, skipping an optional question, asking for a
person, marking a correction ("make it ... instead", "instead of ..."). Plain word patterns,
the same for every agent, so they cost no model call and no agent file needs to list them."""

from __future__ import annotations

import re

from .slots import mentions, tokens

_POLITE = re.compile(r"\b(please|sorry|um+|uh+|oh|excuse me|thanks|thank you|at all|really|"
                     r"for now|ok(?:ay)?|well)\b[,.!?]*", re.IGNORECASE)
_REPEAT = re.compile(
    r"^(?:what|huh|pardon(?: me)?|come again|say (?:that|it) again|(?:can|could) you "
    r"(?:repeat|say) (?:that|it|the question)(?: again)?|repeat(?: that| the question| it)?"
    r"(?: again)?|what did you (?:say|ask)|i didn'?t (?:catch|hear|get|understand) "
    r"(?:that|you|the question)|one more time|again)?$", re.IGNORECASE)
_SKIP = re.compile(
    r"^(?:skip(?: (?:it|that|this|this one|this question))?|no preference|none|nothing|no|nope|"
    r"not needed|no thanks?(?: you)?|doesn'?t matter|it doesn'?t matter|(?:i )?don'?t mind|"
    r"(?:i )?don'?t care|(?:i have )?no (?:special )?(?:requests?|notes?|preference|needs?)|"
    r"pass|i'?d rather not(?: say)?|rather not(?: say)?|not really|n/?a|nah|leave it(?: blank| "
    r"empty)?|that'?s all|nothing else|whatever|up to you|either way|"
    r"(?:it )?doesn'?t (?:really )?matter(?: to (?:me|us))?(?: either way)?|"
    r"(?:i|we) (?:really )?don'?t mind(?: either way)?|(?:i|we) don'?t care(?: either way)?|"
    r"no preference(?: either way)?|not|that'?s it|no,? that'?s (?:all|it)|no,? nothing(?: else)?|"
    r"all good|(?:i'?m|we'?re) good|nothing (?:to add|more))$", re.IGNORECASE)
_HUMAN = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|the|some|your)?\s*(?:real\s+|live\s+)?"
    r"(?:human|person|agent|someone|somebody|operator|representative|manager|staff)\b"
    r"|\b(?:human|operator|representative)\s*(?:please)?$"
    # "can I speak to a pharmacist?", "put me through to the front desk": any role
    r"|\b(?:can|could|may)\s+i\s+(?:please\s+)?(?:talk|speak|chat)\s+(?:to|with)\b"
    r"|\b(?:put|transfer|connect)\s+me\s+(?:through\s+)?(?:to|with)\b", re.IGNORECASE)
_CHANGE = re.compile(
    r"\b(?:instead|make it|make that|change(?: it| that)?(?: to)?|actually|rather|no wait|"
    r"wait|correction|i meant|i mean|switch|not\s+\S+\s+but|got (?:\w+ ){0,4}wrong|"
    r"(?:made )?a mistake|typo)\b", re.IGNORECASE)
_INSTEAD_OF = re.compile(
    r"(?:make\s+(?:it|that)\s+|change\s+(?:it|that)\s+to\s+|change\s+to\s+|i\s+meant\s+)?"
    r"(?P<new>[\w' .:-]+?)\s+instead\s+of\s+(?P<old>[\w' .:-]+?)[\s.!?]*$", re.IGNORECASE)


def _bare(message: str) -> str:
    text = _POLITE.sub(" ", message)
    return " ".join(re.sub(r"[^\w' /]", " ", text).split()).lower()


def wants_repeat(message: str) -> bool:
    """"Sorry?", "say that again", "what?": the last question again."""
    text = _bare(message)
    return _REPEAT.match(text) is not None


def wants_skip(message: str) -> bool:
    """"Skip", "no preference", "none": leave an optional slot empty."""
    return _SKIP.match(_bare(message)) is not None


_NOT_CANCELLING = re.compile(r"\b(?:don'?t|do not|not|no need to|never)\s+(?:\w+\s+)?"
                             r"(?:cancel|stop|forget)", re.IGNORECASE)


def drops_task(message: str, cancel_words: list[str]) -> bool:
    """A cancel word said without a "don't" before it: with nothing else in the message it
    drops the task ("you know what, never mind, I'll sort it out myself"), which the model
    alone does not always see."""
    return mentions(message, cancel_words) and _NOT_CANCELLING.search(message) is None


def wants_person(message: str) -> bool:
    """"Can I talk to a human?": hand off."""
    return _HUMAN.search(message) is not None


def marks_change(message: str) -> bool:
    """Whether the user says they are changing something already said."""
    return _CHANGE.search(message) is not None


_NOT_BUT = re.compile(r"\bnot\s+(?:the\s+)?(?P<old>[\w' .:-]+?)\s*,?\s+but\s+(?:the\s+)?"
                     r"(?P<new>[\w' .:-]+?)[\s.!?]*$", re.IGNORECASE)
_X_NOT_Y = re.compile(r"(?:^|\b(?:hold on|wait|no|sorry|actually)\b[\s,]*)(?:the\s+|a\s+|an\s+)?"
                      r"(?P<new>[\w' .:,-]+?)\s*,?\s+not\s+(?:the\s+|a\s+|an\s+)?"
                      r"(?P<old>[\w' .:-]+?)[\s.!?]*$", re.IGNORECASE)


# What stands before the new words of "sorry, the pickup is at 30 Drake Street, not Bury": the
# markers, and "the pickup is (at)" (words with no number before "is").
_LEAD_IN = re.compile(r"^(?:(?:hold on|wait|no|sorry|actually|yes|yeah|ok|okay|oh)\b[\s,]*)*"
                      r"(?:(?:the\s+|my\s+|our\s+)?[a-z][a-z ]{0,24}?\s+(?:is|are|will be|"
                      r"should be)\s+(?:at\s+|on\s+|in\s+|for\s+)?|it'?s\s+)?",
                      re.IGNORECASE)


def instead_of(message: str) -> tuple[str, str] | None:
    """("8:30", "9") for "no wait, make that 8:30 instead of 9", "the filling, not the
    cleaning" or "not Friday but Saturday": the new words and the old."""
    for clause in re.split(r"[;]|\bno\b|\bwait\b|\bsorry\b", message, flags=re.IGNORECASE):
        for pattern in (_INSTEAD_OF, _NOT_BUT):
            found = pattern.search(clause.strip(" ,"))
            if found and tokens(found.group("new")) and tokens(found.group("old")):
                return found.group("new").strip(), found.group("old").strip()
    found = _X_NOT_Y.search(message.strip())
    if found and tokens(found.group("new")) and tokens(found.group("old")):
        new = _LEAD_IN.sub("", found.group("new").strip())
        return new.strip(" ,"), found.group("old").strip()
    return None


_NEW_VALUE = re.compile(r"\b(?:it'?s|it is|should be|is|was meant to be)\s+(?P<new>[^.!?]+)",
                        re.IGNORECASE)


def said_new_value(message: str) -> str | None:
    """The new value of "sorry, I got the new address wrong, it's 31 Priory Avenue": the
    words after the last "it's" / "is"."""
    found = list(_NEW_VALUE.finditer(message))
    new = found[-1].group("new").strip(" ,") if found else ""
    return new if tokens(new) else None


def change_clause(message: str) -> str | None:
    """The words after the last change marker ("..., oh and actually make it 8:45 pm
    instead" -> "make it 8:45 pm instead"), where a correction said beside an answer is."""
    found = list(_CHANGE.finditer(message))
    if not found:
        return None
    start = found[0].start()
    clause = message[start:].strip(" ,.")
    return clause if tokens(clause) else None


def overlaps(words: str, other: str) -> bool:
    """Whether `words` name the same thing as `other` (every word of the shorter is in the
    longer, ignoring case and filler)."""
    a, b = set(tokens(words)), set(tokens(other))
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return bool(small) and small <= large
