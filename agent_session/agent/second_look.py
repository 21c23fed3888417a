"""When a long message deserves a second, narrower model call. The embedded 1.5B model, given
every field of an agent at once, often copies out five of the seven details a long message
holds and leaves out the rest (most often a free-text one: a street address, a note). Asked again
for only the fields still empty, it finds most of them; what it finds is grounded and checked
like any other words. The second call costs a few prompt tokens (it repeats the first call's
prompt, which the model keeps evaluated) and is made only when the message has words no slot
took."""

from __future__ import annotations

from .slots import FILLER, Slot, tokens

LONG_MESSAGE_WORDS = 10
# Words of a request that are no detail of any agent's ("Hi, I'd like to book ... please").
_COMMON = FILLER | frozenset({
    "i", "d", "m", "s", "ll", "ve", "re", "t", "we", "me", "us", "you", "your", "our", "it",
    "its", "that", "this", "there", "here", "and", "or", "but", "so", "also", "with", "just",
    "can", "could", "would", "will", "should", "shall", "may", "might", "do", "does", "did",
    "be", "been", "am", "are", "was", "were", "have", "has", "had", "get", "got", "like", "want",
    "wanted", "need", "needs", "book", "booking", "booked", "hi", "hello", "hey", "good",
    "morning", "thanks", "thank", "yes", "yeah", "no", "ok", "okay", "sure", "if", "as",
    "what", "how", "one", "some", "any", "all", "up", "out", "let", "know", "make", "see",
    "going", "go", "looking", "look", "try", "trying", "then", "too", "very", "much", "well",
    "um", "uh", "oh", "er", "right", "great", "hope", "possible", "able", "into", "now",
    "under", "name", "named", "called", "people", "person", "persons", "again",
})
_SECOND_LOOK_MIN_UNSAID = 2


def unsaid(message: str, taken: list[str]) -> list[str]:
    """The message's words that carry a detail and that no slot took."""
    covered = {t for words in taken for t in tokens(words)}
    return [t for t in tokens(message) if t not in covered and t not in _COMMON]


def fields_to_look_for(message: str, words: dict[str, str], said: dict[str, str | None],
                       empty: list[Slot], slots: list[Slot] = ()) -> list[str]:
    """The empty slots to ask about again, or [] when the message is short or every word of
    it that carries a detail went to some slot (or names one: "bathrooms")."""
    if not empty or len(tokens(message)) < LONG_MESSAGE_WORDS:
        return []
    names = [f"{s.name.replace('_', ' ')} {s.name.replace('_', ' ')}s" for s in slots]
    taken = [*words.values(), *(v for v in said.values() if v), *names]
    if len(unsaid(message, taken)) < _SECOND_LOOK_MIN_UNSAID:
        return []
    return [slot.name for slot in empty]
