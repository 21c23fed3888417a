"""Names in the user's words (a person's, a pet's): found where the model missed them, refused
where the model's words cannot be one.

The embedded model drops "Name's Rachel Green" or "Rosie" from a long first message as often
as it keeps them, and takes "my cousins" from "make that 5 tickets, my cousins are coming
too", "Hi" from "Hi, two tickets ..." or "labradoodle" from "she's a 45 pound labradoodle" as
a name. People introduce themselves in a few fixed ways ("my name is", "this is", "under the
name"), write names capitalised when they capitalise at all, and a name neither opens with "my"
nor is a greeting, so all of it can be settled without the model, for any agent's name slots.
"""

from __future__ import annotations

import re

from .slots import Slot, tokens

# Words that make a free-text slot a person's: "name", "guest_name", "owner", "patient".
_PERSON = {"owner", "customer", "caller", "guest", "patient", "buyer", "booker", "contact",
           "person", "passenger", "client", "member", "holder", "parent", "attendee",
           "visitor", "applicant", "requester", "reservation", "booking", "full", "first",
           "last", "your", "user", "traveller", "traveler", "diner", "student", "driver",
           "sender", "recipient", "receiver", "employee", "staff", "tenant", "resident",
           "pupil", "child", "kid", "rider", "renter", "shopper", "cardholder", "signer"}
# Words that make `<word>_name` a person's name, though alone they name no person.
_NAME_OF = _PERSON | {"lead", "main", "primary", "account", "billing", "emergency", "my"}
# A name cannot be made of these alone.
_FILLER = {"hi", "hello", "hey", "hiya", "thanks", "thank", "you", "please", "ok", "okay",
           "yes", "yeah", "no", "nope", "sure", "um", "uh", "erm", "well", "so", "good",
           "morning", "afternoon", "evening", "there", "me", "it", "that", "this", "hmm"}
# Who a person is, not their name ("for my daughter").
_RELATIONS = {"daughter", "son", "wife", "husband", "mother", "father", "mom", "mum", "dad",
              "parent", "parents", "kid", "kids", "child", "children", "baby", "friend",
              "friends", "family", "brother", "sister", "grandma", "grandpa", "grandmother",
              "grandfather", "partner", "boyfriend", "girlfriend", "cousin", "cousins", "aunt",
              "uncle", "boss", "colleague", "neighbour", "neighbor", "myself", "self", "patient",
              "customer", "owner", "someone", "somebody", "everyone", "us", "them", "him",
              "girl", "boy", "girls", "boys", "lad", "lass", "grandson", "granddaughter",
              "grandchild", "grandkids", "nephew", "niece", "teenager", "toddler", "youngest",
              "eldest", "oldest", "kiddo", "pupil", "student", "pet", "puppy", "kitten"}
# Words a name never opens with ("my cousins", "the kids", "our group").
_NOT_OPENING = {"my", "our", "your", "his", "her", "their", "the", "a", "an", "some", "we",
                "us", "i", "it", "its", "that", "this", "these", "those", "all", "both"}
_CALENDAR = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
             "january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december", "today", "tomorrow", "tonight"}
# "my name is rachel green" names whatever follows; "this is", "I'm" and "under" only a
# capitalised name ("this is Maria Lopez", not "this is for two").
_SAYS_NAME = re.compile(r"\b(?:my name is|my name's|name's|name is|names|call me|"
                        r"under the name(?: of)?|in the name of)\s+", re.IGNORECASE)
_INTRODUCES = re.compile(r"\b(?:this is|i'm|i am|it's|it is|under|booked under|put it under)"
                         r"\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_ENDS = {"and", "but", "please", "for", "at", "on", "with", "to", "from", "i", "we", "it",
         "its", "so", "then", "or", "the", "a", "an", "in", "by"}


def is_person(slot: Slot) -> bool:
    """Whether a free-text slot holds a person's name: "name", "guest_name", "owner", but not
    "dog_name" or "film_name" (the name of a thing), nor "parent_email" (a person's email)."""
    if slot.type != "text":
        return False
    words = tokens(slot.name.replace("_", " "))
    if "name" in words:
        return words[0] == "name" or words[0] in _NAME_OF
    return bool(words) and words[-1] in _PERSON  # "owner", "contact_person"; not "parent_email"


def is_name(slot: Slot) -> bool:
    """Whether a free-text slot holds a name: a person's, or one called `..._name`."""
    return is_person(slot) or (slot.type == "text" and
                                "name" in tokens(slot.name.replace("_", " ")))


def written_lower_only(words: str, message: str) -> bool:
    """Whether a message whose writer capitalises (it opens with a capital) has `words` only
    in lower case: "she's a 45 pound labradoodle" holds a breed, not the dog's name."""
    text = message.strip()
    if not text[:1].isupper():
        return False
    found = [m.group(0) for w in words.split()
             for m in re.finditer(rf"(?<![\w']){re.escape(w)}(?![\w'])", text, re.IGNORECASE)]
    return bool(found) and all(w[:1].islower() for w in found)


_NOT_BEFORE_NAME = {"the", "at", "in", "to", "from", "near", "on", "via", "of", "into"}
_RUN = re.compile(r"[A-Z][a-z]+(?:['\-][A-Za-z]+)?(?:\s+[A-Z][a-z]+(?:['\-][A-Za-z]+)?){0,2}")


def capitalised(message: str, taken: list[str]) -> str | None:
    """The one capitalised name in the message ("I'd like to get Rosie, my 35 lb cocker
    spaniel, in for a haircut"): a run of capitalised words not opening a sentence, not a day
    or a month, not after "the" or a place word ("at the Hilton"), and none of `taken`; None
    when none, or several."""
    runs: set[str] = set()
    for found in _RUN.finditer(message):
        before = message[:found.start()].rstrip()
        if not before or before[-1] in ".!?":
            continue  # a sentence's first word is capitalised whatever it is
        words = [w for w in found.group(0).split()]
        if any(w.lower() in _CALENDAR | _FILLER or w in ("I", "I'd", "I'm", "I'll")
               for w in words):
            continue
        previous = before.split()[-1].lower().strip(",;:") if before.split() else ""
        if previous in _NOT_BEFORE_NAME:
            continue
        run = " ".join(words)
        if any(set(tokens(run)) & set(tokens(t)) for t in taken):
            continue
        runs.add(run)
    return runs.pop() if len(runs) == 1 else None


def possessed(words: str, message: str) -> bool:
    """Whether the message says these words, in lower case, after "my", "our", "his"...: who
    or what someone is ("for my girl", "our lad"), not a name."""
    return re.search(rf"\b(?:my|our|his|her|their|your)\s+(?:little\s+|eldest\s+|youngest\s+)?"
                     rf"{re.escape(words)}\b", message) is not None


def could_be_name(words: str) -> bool:
    """False for words that are not a name: a greeting or filler alone ("Hi", "yes"), or a
    phrase opening like a noun phrase with nothing capitalised ("my cousins")."""
    said = tokens(words)
    if not said or all(w in _FILLER | _RELATIONS | _NOT_OPENING for w in said):
        return False
    return not (said[0] in _NOT_OPENING and not any(w[:1].isupper() for w in words.split()[1:]))


def _name_after(message: str, start: int, capitalised: bool) -> str | None:
    kept: list[str] = []
    for found in _WORD.finditer(message, start):
        gap = message[start:found.start()]
        if kept and gap.strip():  # punctuation ends the name
            break
        if not kept and gap.strip():
            return None
        word = found.group(0)
        lower = word.lower()
        if lower in _ENDS or lower in _CALENDAR or lower in _FILLER or \
                (capitalised and not word[0].isupper()):
            break
        kept.append(word)
        start = found.end()
        if len(kept) == 3:
            break
    return " ".join(kept) or None


def said_name(message: str) -> str | None:
    """The name the user introduces ("Name's Rachel Green", "this is Maria Lopez", "under the
    name Okafor"); None when none, or two different ones."""
    names = {name for cue, capitalised in ((_SAYS_NAME, False), (_INTRODUCES, True))
             for found in cue.finditer(message)
             if (name := _name_after(message, found.end(), capitalised))}
    names = {n for n in names if not any(n != m and n.lower() in m.lower() for m in names)}
    return names.pop() if len(names) == 1 else None
