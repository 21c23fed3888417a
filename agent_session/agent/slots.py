"""The `form` section of an agent file: the slots to fill, how to ask for each, and how the
user's words for a slot become its stored value through the agent's own actions.

```yaml
form:
  slots:
    - name: pickup_location            # a field of result_schema
      description: where the cab picks the user up
      question: Where should the cab pick you up?
      resolve:                         # tried in order; none: the value is the words as said
        - when: '^(my )?(?P<address_type>home|office)$'   # optional regex on the words
          action: get_user_address
          arguments: {address_type: '{address_type}'}      # {said} and the regex's groups
          value: address                                   # path into the observation
          reject: I couldn't find your saved {address_type} address.
  examples: [{message: ..., question: ..., known: {...}, extract: {...}}]
```
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

CANCEL = "cancel"
DEFAULT_INSTRUCTIONS = ("You read one message from a user and copy out, in the user's own words, "
                        "each detail it gives for the fields below.")


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """`{name}` placeholders filled from `values`; unknown ones are left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


class ResolveRule(BaseModel):
    action: str
    when: str | None = Field(None, description="regex matched against all of the words")
    arguments: dict[str, str] = Field(default_factory=lambda: {})
    value: str = Field(min_length=1, description="dotted path into the observation")
    reject: str | None = Field(None, description="said when no value is found; {error} is "
                               "the action's own error. Default: that error, else a generic "
                               "sentence")

    @field_validator("when")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    def match(self, said: str) -> dict[str, str] | None:
        """The placeholders for this rule (`said` and the regex's named groups), or None when
        the rule does not apply to these words."""
        if self.when is None:
            return {"said": said}
        found = re.fullmatch(self.when, said.strip(), re.IGNORECASE)
        if found is None:
            return None
        groups = {k: v.lower() for k, v in found.groupdict().items() if v is not None}
        return {"said": said, **groups}

    def refusal(self, placeholders: dict[str, str], observation: dict[str, Any] | None
                ) -> str:
        """What to say when this rule found no value: `reject` (with `{error}`, the action's
        own error), else the action's error, else a generic sentence."""
        error = observation.get("error") if isinstance(observation, dict) else None
        error = str(error).strip() if isinstance(error, str | int | float) else ""
        if self.reject is not None:
            return fill(self.reject, {**placeholders, "error": error})
        if error:
            return error if error.endswith((".", "!", "?")) else f"{error}."
        return fill("I couldn't use “{said}”.", placeholders)

    def take(self, observation: dict[str, Any]) -> str | int | float | bool | None:
        """The value at `value`'s path (a number or yes/no as the action returned it), or None
        when the observation has none (or an error)."""
        if "error" in observation:
            return None
        current: Any = observation
        for part in self.value.split("."):
            if isinstance(current, dict):
                current = current.get(part)
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return None
        if current is None or isinstance(current, dict | list) or str(current).strip() == "":
            return None
        return current if isinstance(current, int | float | bool) else str(current)


SlotType = Literal["text", "integer", "number", "boolean", "date", "time", "choice"]
# How a time slot reads an hour said without am/pm or a part of the day ("at 9", "9."):
# `ask` asks which; `am`/`pm` take that half; `daytime` takes 7-11 as morning, 12-6 as afternoon.
BareHour = Literal["ask", "am", "pm", "daytime"]


class Choice(BaseModel):
    value: str = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=lambda: [])


class Slot(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str | None = Field(None, min_length=1)
    question: str = Field(min_length=1, max_length=500)
    type: SlotType = "text"
    choices: list[Choice] = Field(default_factory=lambda: [])
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    required: bool = True
    bare_hour: BareHour = "ask"
    days: Literal["future", "past", "any"] = Field(
        "future", description="for a date: today or later (a booking), today or earlier (a "
        "date of birth), or any day")
    resolve: list[ResolveRule] = Field(default_factory=lambda: [])

    @field_validator("choices", mode="before")
    @classmethod
    def _choice_strings(cls, value: Any) -> Any:
        """A choice may be written as a plain string."""
        if isinstance(value, list):
            return [{"value": v} if isinstance(v, str | int | float) else v for v in value]
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    @model_validator(mode="after")
    def _typed(self) -> Slot:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"slot {self.name}: a choice slot needs `choices`")
        if self.choices and self.type != "choice":
            raise ValueError(f"slot {self.name}: `choices` is only for type choice")
        if (self.min is not None or self.max is not None) and \
                self.type not in ("integer", "number"):
            raise ValueError(f"slot {self.name}: `min`/`max` are only for integer and number")
        if self.days != "future" and self.type != "date":
            raise ValueError(f"slot {self.name}: `days` is only for type date")
        if self.description is None:
            self.description = self.question
        return self

    @property
    def hint(self) -> str:
        """What the model is told about the slot besides its description."""
        if self.type == "choice":
            return f" (one of: {', '.join(c.value for c in self.choices)})"
        if self.type in ("integer", "number"):
            return " (a number)"
        if self.type == "boolean":
            return " (yes or no)"
        return ""

    def json_schema(self) -> dict[str, Any]:
        """The result field this slot fills, as JSON Schema (for agents that declare slots
        but no result_schema of their own)."""
        kinds = {"text": "string", "integer": "integer", "number": "number",
                 "boolean": "boolean", "date": "string", "time": "string", "choice": "string"}
        schema: dict[str, Any] = {"type": kinds[self.type], "description": self.description}
        if self.type == "choice":
            schema["enum"] = [c.value for c in self.choices]
        if self.type == "date":
            schema["format"] = "date"
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        if not self.required:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        return schema


class Example(BaseModel):
    """One worked extraction shown to the model (few-shot): what it is asked, what it answers."""

    message: str
    question: str | None = None
    known: dict[str, str] = Field(default_factory=lambda: {})
    extract: dict[str, str] = Field(default_factory=lambda: {})

    @field_validator("known", "extract", mode="before")
    @classmethod
    def _as_words(cls, value: Any) -> Any:
        """Values written as YAML numbers or booleans (`guests: 2`, `breakfast: true`) are
        taken as the words they stand for."""
        if not isinstance(value, dict):
            return value
        return {key: ("yes" if item else "no") if isinstance(item, bool) else
                str(item) if isinstance(item, int | float) else item
                for key, item in value.items()}


class FormSpec(BaseModel):
    instructions: str = DEFAULT_INSTRUCTIONS
    slots: list[Slot] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=lambda: [])
    cancel_reply: str = "Okay, I've cancelled that."
    cancel_words: list[str] = Field(default_factory=lambda: [
        "cancel", "stop", "forget", "never mind", "nevermind", "start over", "restart",
        "scratch that"])

    @model_validator(mode="after")
    def _consistent(self) -> FormSpec:
        names = [slot.name for slot in self.slots]
        if len(set(names)) != len(names):
            raise ValueError("form slots must have distinct names")
        for example in self.examples:
            unknown = set(example.extract) - set(names) - {"intent"}
            if unknown:
                raise ValueError(f"an example extracts unknown slots: {sorted(unknown)}")
        return self

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)

    def extraction_schema(self) -> dict[str, Any]:
        """What the model may answer: any of the slots as the user's words, and the cancel
        intent; every key optional, so a message that gives one detail costs a few tokens."""
        properties: dict[str, Any] = {s.name: {"type": "string"} for s in self.slots}
        properties["intent"] = {"type": "string", "enum": [CANCEL]}
        return {"type": "object", "properties": properties, "additionalProperties": False}


# Words that carry no detail of their own: a value is not grounded by these alone.
FILLER = frozenset({"a", "an", "the", "my", "at", "in", "on", "to", "from", "for", "of", "by",
                    "please", "around", "about", "is", "it"})
_TOKEN = re.compile(r"[a-z]+|[0-9]+")  # "9am" and "9 am" are the same words


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def ground(words: str, message: str) -> str | None:
    """`words` with every word the user did not say dropped; None when nothing that carries a
    detail is left (a small model fills gaps with guesses, and a guess must never be booked)."""
    said = set(tokens(message))
    kept = [w for w in words.split() if tokens(w) and all(t in said for t in tokens(w))]
    if not any(t not in FILLER for w in kept for t in tokens(w)):
        return None
    return " ".join(kept)


# Words of a request that are no detail of any agent's ("Hi, I'd like to book ... please").
_REQUEST_WORDS = FILLER | frozenset({
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
    "don", "dont", "doesn", "isn", "not", "unknown", "none", "nothing", "n",
})


def detail_words(message: str) -> list[str]:
    """The message's words that may carry a detail: "leave it with the concierge" has two,
    "hello again" none."""
    return [t for t in tokens(message) if t not in _REQUEST_WORDS]


def mentions(message: str, phrases: list[str]) -> bool:
    text = " ".join(tokens(message))
    return any(re.search(rf"\b{re.escape(' '.join(tokens(p)))}\b", text) for p in phrases)
