"""The `form` strategy: slot filling in the manner of Rasa CALM. The model's whole job on a turn
is one schema-constrained generation that copies out the user's words for each slot the message
gives or corrects; everything after it is deterministic: the words are grounded in the message
(by meaning for numbers), read as the slot's type, resolved by the agent's own actions, and a
refused value is asked again with the reason; then the first missing slot is asked for, the
result read back for confirmation when the agent wants it, or returned.

Repairs hold on any agent: a correction of any slot at any point (also while a free-text slot is
asked), skipping an optional slot, "sorry?" for the last question again, a hand-off when one
slot fails `max_attempts` times or the user asks for a person, cancelling. Turns that need no
reading of the message (a repeat, a yes to a confirmation, a short typed answer) make no model
call at all.

The form's state (`FormState`) rides on the turn's stored question event, so it needs no
storage of its own and a failed turn changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema

from ..events import Event, FinalResult, Question, UserMessage
from ..llm.base import JSONRequest, LLMClient
from ..llm.messages import current_task
from ..metrics import Metrics
from . import names, repairs, typed_finder
from .actions import ActionArgumentsError, ActionContext, ActionRegistry
from .definition import AgentDefinition
from .form_state import FormState
from .loop import LoopLimits
from .slot_types import (
    Reading,
    as_slot_type,
    matching_part,
    read,
    settle_half,
    unit_owner,
)
from .slot_values import (
    match_choice,
    number_words_in,
    parse_boolean,
    parse_number,
    same_number,
    times_said,
)
from .slots import CANCEL, FormSpec, Slot, detail_words, fill, ground, mentions, tokens
from .steps import ActionSteps, model_call
from .strategy import StepCallback, TurnOutcome

log = logging.getLogger(__name__)
RULES = (
    "Answer with a JSON object holding only the fields this message gives or changes, each as "
    "the user's own words copied from the message. Leave out every field the message does not "
    "give: never guess, never copy a known value. A short answer (a place, a day, a time, a "
    "number) answers the last question. A correction (\"make it ...\", \"... instead\") "
    "goes to the field it changes. Add \"intent\": \"cancel\" only when the user wants to "
    "cancel or start over."
)
# Words that may stand before a date the model copied ("tomorrow") as part of the same phrase
# ("the day after tomorrow", "in 3 days", "next Monday"): a phrase is taken whole.
_DATE_LEFT = {"the", "day", "after", "next", "this", "coming", "following", "week", "in", "a",
              "on", "of", "weeks", "from", "two", "three"}
_LINKING = {"the", "a", "an", "on", "of", "at", "in", "by", "for"}
_DATE_LEFT_NUMBERS = {"two", "three", "a"}
_TIME_RIGHT = {"am", "pm", "a", "m", "in", "the", "morning", "evening", "afternoon", "night",
               "tonight", "o", "clock", "oclock"}
_DAYPART = {"am", "pm", "morning", "evening", "afternoon", "night", "tonight", "m", "clock",
            "oclock"}
_TIME_LEFT = {"half", "past", "quarter", "to", "a"}
_WORD = re.compile(r"[\w']+(?:[:.]\d+)?")
SHORT_ANSWER_WORDS = 4
READ_BACK = ":read-back"  # the attempts at a confirmation, beside the slots' own
# A short answer to a date question is read without the model only when it names no time, and
# to a time question only when it names no day: "tomorrow at 9" fills two slots, so the model
# reads it.
_TIME_WORDS = re.compile(r"\d|\b(?:am|pm|a\.m|p\.m|morning|afternoon|evening|night|tonight|"
                         r"noon|midnight|o'?clock|half|quarter)\b", re.IGNORECASE)
_DAY_WORDS = re.compile(r"\b(?:today|tonight|tomorrow|yesterday|day|days|week|weekend|month|"
                        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|"
                        r"february|march|april|may|june|july|august|september|october|"
                        r"november|december|next|this|coming)\b|\d(?:st|nd|rd|th)\b|\d[/-]\d",
                        re.IGNORECASE)


def state_of(history: list[Event]) -> tuple[FormState, str | None]:
    """The state after the current task's last question, and that question (a fresh state
    after a result, a hand-off or a cancel)."""
    for event in reversed(history[current_task(history):]):
        if isinstance(event, Question):
            state = event.form.model_copy(deep=True) if event.form else FormState()
            if state.ended:
                return FormState(), None
            return state, event.content
    return FormState(), None


def _turn_text(known: dict[str, str], question: str | None, message: str) -> str:
    shown = "; ".join(f"{k}: {v}" for k, v in known.items()) or "nothing yet"
    return f"Known: {shown}\nLast question: {question or 'none'}\nMessage: {message}"


def prompt_prefix(spec: FormSpec) -> list[dict[str, str]]:
    """The fixed start of every extraction prompt (instructions, fields, worked examples):
    identical for every turn of every session, so a local model evaluates it once."""
    fields = "\n".join(f"- {slot.name}: {slot.description}{slot.hint}" for slot in spec.slots)
    messages = [{"role": "system", "content": f"{spec.instructions}\n\nFields:\n{fields}\n\n"
                                              f"{RULES}"}]
    for example in spec.examples:
        messages.append({"role": "user",
                         "content": _turn_text(example.known, example.question, example.message)})
        messages.append({"role": "assistant", "content": json.dumps(example.extract)})
    return messages


def _spans(message: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(message)]


def widen(slot: Slot, words: str, message: str) -> str:
    """A date or time the model shortened, taken whole from the message: "tomorrow" in "the
    day after tomorrow", "8:30" in "8:30 in the evening", "past 7" in "half past 7"."""
    if slot.type not in ("date", "time"):
        return words
    spans = _spans(message)
    want = [t for t in (w.lower().strip(".,!?") for w in words.split()) if t]
    if not want:
        return words
    for start in range(len(spans) - len(want) + 1):
        if [s[0].strip(".") for s in spans[start:start + len(want)]] != \
                [w.strip(".") for w in want]:
            continue
        first, last = start, start + len(want) - 1
        left = _DATE_LEFT if slot.type == "date" else _TIME_LEFT
        while first > 0 and spans[first - 1][0] in left:
            first -= 1
        # A number is the date's only before "days" or "weeks" ("in two days"), not the
        # count before it ("a table for two tomorrow").
        while first < start and spans[first][0] in _DATE_LEFT_NUMBERS and \
                spans[first + 1][0] not in ("days", "weeks", "day", "week"):
            first += 1
        if slot.type == "time":
            end = last
            while end + 1 < len(spans) and spans[end + 1][0].strip(".") in _TIME_RIGHT:
                end += 1
            while end > last and spans[end][0].strip(".") not in _DAYPART:
                end -= 1
            last = end
        while first < start and spans[first][0] in {"the", "a", "on", "in", "of", "to"} and \
                not (slot.type == "date" and spans[first][0] == "in"):
            first += 1
        return message[spans[first][1]:spans[last][2]]
    return words


def grounded(slot: Slot, value: str, message: str) -> str | None:
    """The model's words for `slot` kept only as far as the user said them. Numbers are
    compared by meaning ("6" for "six"); a choice by the option it names."""
    said_numbers = number_words_in(message)
    if slot.type in ("integer", "number"):
        number = parse_number(value)
        if number is not None:  # said as a number, or not at all ("the mixed one")
            return value if _canonical(number) in said_numbers else None
    if slot.type == "choice":
        options = [(c.value, c.synonyms) for c in slot.choices]
        chosen = match_choice(value, options)
        if chosen is not None and match_choice(message, options) == chosen:
            return value
    kept = ground(value, message)
    if slot.type in ("date", "time") and kept != value and \
            len(found := typed_finder.phrases(slot.type, message)) == 1 and \
            number_words_in(value) <= number_words_in(found[0]):
        return found[0]  # "at 10 am" for "at ten am": the phrase said, whole
    if kept is not None and slot.type == "text" and not names.is_name(slot) and (
            not detail_words(kept) or
            2 * len(set(detail_words(kept))) <= len(set(detail_words(value)))):
        # "I", "I don't know": words that say nothing for a free-text slot; "hair" of
        # "allergic to some hair dyes", most of which the user never said: a guess
        return None
    if kept is None and said_numbers:
        said = set(tokens(message)) | said_numbers
        words = [w for w in value.split() if tokens(w) and all(t in said for t in tokens(w))]
        kept = " ".join(words) if any(t in said_numbers for w in words for t in tokens(w)) \
            else None
    return kept


def _named_choice(slot: Slot, message: str) -> str | None:
    """The words of the one option (value or synonym) the message names whole, if exactly one
    option is named."""
    text = " ".join(tokens(message))
    hits = [(c.value, phrase, found.span()) for c in slot.choices
            for phrase in [c.value, *c.synonyms] if tokens(phrase)
            for found in re.finditer(rf"\b{re.escape(' '.join(tokens(phrase)))}\b", text)]
    # A phrase inside a longer one that is named ("single" in "two single beds") does not count.
    whole = [(value, phrase) for value, phrase, (a, b) in hits
             if not any(x <= a and b <= y and (y - x) > (b - a) for _, _, (x, y) in hits)]
    named = {value: phrase for value, phrase in whole}
    return next(iter(named.values())) if len(named) == 1 else None


_NOT_CUES = {"the", "and", "for", "you", "your", "what", "which", "who", "when", "where", "how",
             "would", "should", "could", "like", "please", "tell", "give", "put", "this",
             "that", "with", "from", "are", "is", "it", "its", "as", "said", "say", "example",
             "any", "one", "ones", "our", "under", "want", "need", "booking", "book", "can",
             "know", "there", "anything", "something", "skip", "such", "let",
             "also", "just", "will", "have", "has", "get", "may", "might", "must", "else",
             "other"}


def _cued(slot: Slot, message: str, slots: list[Slot] = ()) -> bool:
    """Whether the message names this slot: a word of its name, description or question
    ("the name is ...", "the car is ..."), other than the words naming another slot (the
    "guest" of `guest_name` also names `guests`)."""
    cues = {w for w in tokens(" ".join(filter(None, (slot.name.replace("_", " "),
                                                     slot.description, slot.question))))
            if len(w) >= 3 and w not in _NOT_CUES}
    for other in slots:
        if other is not slot:
            named = set(tokens(other.name.replace("_", " ")))
            cues -= named | {w.rstrip("s") for w in named} | {f"{w}s" for w in named}
    said = set(tokens(message))
    return bool(cues & said) or any(w.rstrip("s") in said or f"{w}s" in said for w in cues
                                    if len(w) > 3)


def _listed_together(first: str, second: str, message: str) -> str | None:
    """The words "<first> and <second>" (or the other way round) as the message says them,
    when it lists the two together; else None."""
    for a, b in ((first, second), (second, first)):
        found = re.search(rf"{re.escape(a)}\s*,?\s+(?:and|or|plus|&)\s+(?:(?:a|an|the|my)\s+)?"
                          rf"{re.escape(b)}", message, re.IGNORECASE)
        if found:
            return found.group(0)
    return None


def _claimed(slot: Slot, words: str) -> bool:
    """Whether a free-text slot's `pattern` claims the words ("30th of November 1984" for a
    date of birth): then a date or count inside them is not another slot's."""
    return slot.type == "text" and slot.pattern is not None and \
        re.fullmatch(slot.pattern, words.strip()) is not None


def _reads(slot: Slot, words: str, now: datetime, tz: ZoneInfo) -> bool:
    reading = read(slot, words, now, tz)
    return reading.value is not None or reading.clarify is not None


def _canonical(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass
class _Turn:
    """What one turn decided, slot by slot, before it answers."""

    words: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[Slot, str]] = field(default_factory=list)
    clarify: tuple[Slot, str] | None = None
    actions_run: int = 0


class FormStrategy:
    name = "form"

    def __init__(self, llm: LLMClient, registry: ActionRegistry, definition: AgentDefinition,
                 limits: LoopLimits, tz: ZoneInfo, metrics: Metrics | None = None,
                 warm_up: bool = False) -> None:
        assert definition.form is not None
        self._llm = llm
        self._llm_seconds = metrics.llm_seconds.labels(llm.name) if metrics else None
        self._registry = registry
        self._definition = definition
        self._spec: FormSpec = definition.form
        self._tz = tz
        self._limits = limits
        self._steps = ActionSteps(registry, limits.action_timeout)
        self._prefix = prompt_prefix(self._spec)
        self._schema = self._spec.extraction_schema()
        self._result = jsonschema.Draft202012Validator(
            definition.schema,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        self._fallback = definition.fallback_question
        self.needs_warm_up = warm_up
        self._date_slot = next((s for s in self._spec.slots if s.type == "date" and
                                s.days != "past"), None)  # the day booked, not a birthday
        self._time_slot = next((s for s in self._spec.slots if s.type == "time"), None)

    async def prepare(self) -> None:
        """Load the model and have it evaluate the fixed prompt prefix once, so the first
        user's turn does not pay for it (about 20 s on the embedded model, 2 cores). Only for a
        model that keeps its evaluated prompt: a remote one would bill a call for nothing."""
        if not self.needs_warm_up:
            return
        try:
            await self._llm.check()
            started = time.perf_counter()
            turn = {"role": "user", "content": _turn_text({}, None, "hello")}
            await self._llm.complete_json(JSONRequest([*self._prefix, turn], self._schema))
        except Exception as exc:  # a model that cannot serve says so on every turn and /ready
            log.warning("form: warm-up failed: %s", getattr(exc, "detail", exc))
            return
        took = time.perf_counter() - started
        if self._llm_seconds is not None:  # every generation the service makes is counted
            self._llm_seconds.observe(took)
        log.info("form %s: the model has read its fixed prompt in %.1f s; ready",
                 self._definition.name, took)

    # -- one turn ------------------------------------------------------------------------------

    async def run(self, history: list[Event], user_message: UserMessage,
                  ctx: ActionContext, on_step: StepCallback | None = None) -> TurnOutcome:
        state, last_question = state_of(history)
        message = user_message.content
        asked = self._spec.slot(state.asking) if state.asking else None

        if repairs.wants_repeat(message) and last_question:
            return self._question(state, asked, last_question, [], 0,
                                  "confirm" if state.confirming else "question", count=False)
        if repairs.wants_person(message):
            return self._hand_off(state, [], 0)
        if state.confirming and not repairs.marks_change(message) and \
                len(tokens(message)) <= SHORT_ANSWER_WORDS and parse_boolean(message) is not None:
            if parse_boolean(message):
                return self._finish(state, [], 0, confirmed=True)
            state.confirming = False
            return self._question(state, None, "What would you like to change?", [], 0,
                                  count=False)
        if asked is not None and not asked.required and repairs.wants_skip(message) and (
                asked.type != "boolean" or parse_boolean(message) is not False
                or "preference" in message.lower()):  # "no" answers a yes/no; "skip",
            # "I don't mind" skip it
            state.values[asked.name], state.said[asked.name] = None, message
            state.attempts.pop(asked.name, None)
            return await self._next(state, _Turn(), [], 0)

        if state.pending is not None and len(tokens(message)) <= SHORT_ANSWER_WORDS and \
                not repairs.marks_change(message):
            settled = settle_half(state.pending, message)
            if settled is not None:
                state.values[state.pending.slot] = settled
                state.said[state.pending.slot] = f"{state.pending.said} {message}"
                state.attempts.pop(state.pending.slot, None)
                state.pending = None
                turn = _Turn()
                self._check_passed_time(state, turn, ctx)
                return await self._next(state, turn, [], 0)

        turn = _Turn()
        direct = self._direct(state, asked, message, ctx)
        steps = 0
        cancel = False
        if direct is not None:
            turn.words = {asked.name: message} if asked else {}
        else:
            await self._llm.check()  # loading the model is not part of the call's deadline
            raw, llm_ms = await self._extract(state, last_question, message, ctx)
            steps = 1
            turn.words, cancel = self._grounded(raw, message, state, asked)
            log.info("form %s: model said %s, grounded %s in %.0f ms", self._definition.name,
                     raw, turn.words, llm_ms)
        if cancel:
            if not turn.words:
                ended = FormState(ended="cancelled")
                return self._question(ended, None, self._spec.cancel_reply, [], steps,
                                      "cancelled", count=False)
            state = FormState()
            asked = None

        events: list[Event] = []
        if state.pending is not None and state.pending.slot not in turn.words:
            settled = settle_half(state.pending, message)
            if settled is not None:
                state.values[state.pending.slot] = settled
                state.said[state.pending.slot] = f"{state.pending.said} {message}"
        state.pending = None
        changed = await self._take(state, turn, ctx, events, on_step, direct)
        if changed:
            state.confirming = False
            state.attempts.pop(READ_BACK, None)
        elif state.confirming and not turn.refused and turn.clarify is None and \
                not repairs.marks_change(message):
            # A longer answer to the read-back that changes nothing ("yes please, that's
            # perfect", "no, that's not right"): its yes or no.
            agreed = parse_boolean(message)
            if agreed:
                return self._finish(state, events, steps + turn.actions_run, confirmed=True)
            if agreed is False:
                state.confirming = False
                return self._question(state, None, "What would you like to change?", events,
                                      steps + turn.actions_run, count=False)
        return await self._next(state, turn, events, steps + turn.actions_run, asked)

    def _direct(self, state: FormState, asked: Slot | None, message: str,
                ctx: ActionContext) -> Reading | None:
        """A short answer to a typed question read without the model ("six", "yes", "the
        patio", "tomorrow", "8 in the evening"); None when the model should read the
        message."""
        if asked is None or asked.resolve or len(tokens(message)) > SHORT_ANSWER_WORDS or \
                repairs.marks_change(message) or mentions(message, self._spec.cancel_words):
            return None
        if asked.type not in ("integer", "number", "boolean", "choice") and not (
                (asked.type == "date" and not _TIME_WORDS.search(message)) or
                (asked.type == "time" and not _DAY_WORDS.search(message))):
            return None
        reading = read(asked, message, ctx.now, self._tz)
        out_of_bounds = asked.type in ("integer", "number") and parse_number(message) is not None
        # A bare hour asked back ("morning or evening?") needs no model either.
        return reading if reading.ok or reading.clarify is not None or out_of_bounds else None

    async def _take(self, state: FormState, turn: _Turn, ctx: ActionContext,
                    events: list[Event], on_step: StepCallback | None,
                    direct: Reading | None) -> bool:
        """Read, check and resolve each slot's new words into the state; whether any value
        changed."""
        changed = False
        for slot in self._spec.slots:
            said = turn.words.get(slot.name)
            if said is None or (state.said.get(slot.name) == said and state.filled(slot.name)):
                continue
            reading = direct if direct is not None else read(slot, said, ctx.now, self._tz)
            if reading.clarify is not None:
                state.clear(slot.name)
                state.pending = reading.pending
                turn.clarify = turn.clarify or (slot, reading.clarify)
                continue
            if reading.reason is not None:
                if reading.unreadable and slot.name != state.asking and \
                        not state.filled(slot.name):
                    continue  # the model put unrelated words here: not the user's answer
                state.clear(slot.name)
                turn.refused.append((slot, reading.reason))
                continue
            known = {s.name: state.values.get(s.name) for s in self._spec.slots}
            value, reason, runs = await self._resolve(slot, reading.value, said, ctx, events,
                                                      on_step, known)
            turn.actions_run += runs
            if reason is not None:
                state.clear(slot.name)
                turn.refused.append((slot, reason))
                continue
            if state.values.get(slot.name, object()) != value:
                changed = True
            state.values[slot.name], state.said[slot.name] = value, said
            state.attempts.pop(slot.name, None)
        self._check_passed_time(state, turn, ctx)
        return changed

    def _check_passed_time(self, state: FormState, turn: _Turn, ctx: ActionContext) -> None:
        """A time today that has already passed is refused with the reason."""
        date_slot, time_slot = self._date_slot, self._time_slot
        if date_slot is None or time_slot is None:
            return
        day, at = state.values.get(date_slot.name), state.values.get(time_slot.name)
        now = ctx.now.astimezone(self._tz)
        if day == now.date().isoformat() and isinstance(at, str) and at < now.strftime("%H:%M"):
            state.clear(time_slot.name)
            turn.refused.append((time_slot, f"{at} today has already passed."))

    async def _next(self, state: FormState, turn: _Turn, events: list[Event], steps: int,
                    asked: Slot | None = None) -> TurnOutcome:
        """What to say after the new values are in: a refusal, a clarification, the next
        missing slot, the read-back, or the result."""
        if turn.refused:  # a value said for a slot and refused: an attempt at it
            slot, reason = turn.refused[0]
            return self._question(state, slot, f"{reason} {slot.question}", events, steps,
                                  attempt=True)
        if turn.clarify is not None:
            slot, question = turn.clarify
            return self._question(state, slot, question, events, steps, attempt=True)
        missing = next((s for s in self._spec.slots if not state.filled(s.name)), None)
        if missing is not None:  # asked again after an answer that did not fill it
            again = asked is not None and missing.name == asked.name
            return self._question(state, missing, missing.question, events, steps,
                                  attempt=again)
        if self._definition.confirm and not state.confirming:
            state.confirming = True
            return self._question(state, None, self._read_back(state), events, steps,
                                  "confirm", count=False)
        if state.confirming:  # nothing changed and no yes: read it back again, saying how
            tries = state.attempts.get(READ_BACK, 0) + 1
            state.attempts[READ_BACK] = tries
            if tries >= self._definition.max_attempts:  # never a read-back forever
                return self._hand_off(state, events, steps)
            return self._question(state, None, "Please say yes to confirm, or tell me what to "
                                  f"change. {self._read_back(state)}", events, steps,
                                  "confirm", count=False)
        return self._finish(state, events, steps)

    def _read_back(self, state: FormState) -> str:
        assert self._definition.confirm is not None
        return self._definition.fill_template(self._definition.confirm, state.values)

    def _finish(self, state: FormState, events: list[Event], steps: int,
                confirmed: bool = False) -> TurnOutcome:
        result = {slot.name: state.values.get(slot.name) for slot in self._spec.slots}
        checked = {k: v for k, v in result.items() if v is not None}
        bad = sorted({str(e.path[0]) for e in self._result.iter_errors(checked) if e.path})
        if bad or not self._result.is_valid(checked):
            slot = self._spec.slot(bad[0]) if bad else None
            if slot is None:
                return self._question(state, None, self._fallback, events, steps, "fallback")
            for name in bad:
                state.clear(name)
            state.confirming = False
            return self._question(state, slot, f"Sorry, that didn't work. {slot.question}",
                                  events, steps)
        events.append(FinalResult.of(result))
        return TurnOutcome(kind="final", result=result, events=events, steps=steps)

    def _hand_off(self, state: FormState, events: list[Event], steps: int) -> TurnOutcome:
        ended = state.model_copy(update={"ended": "handoff"})
        return self._question(ended, None, self._definition.handoff_message, events, steps,
                              "handoff", count=False)

    def _question(self, state: FormState, slot: Slot | None, question: str,
                  events: list[Event], steps: int, kind: str = "question",
                  count: bool = True, attempt: bool = False) -> TurnOutcome:
        """Ask `question` (about `slot`); an `attempt` at the slot that failed counts, and
        `max_attempts` of them in a row hand off."""
        if count and attempt and slot is not None:
            tries = state.attempts.get(slot.name, 0) + 1
            state.attempts[slot.name] = tries
            if tries >= self._definition.max_attempts:
                return self._hand_off(state, events, steps)
        question = question.strip()
        state.asking = slot.name if slot else None
        events.append(Question(content=question, form=state,
                               fallback=True if kind == "fallback" else None,
                               outcome=kind if kind not in ("question", "fallback") else None))
        return TurnOutcome(kind=kind, question=question, events=events,  # type: ignore[arg-type]
                           steps=steps, asking=state.asking)

    # -- the one model call --------------------------------------------------------------------

    async def _extract(self, state: FormState, question: str | None, message: str,
                       ctx: ActionContext) -> tuple[dict[str, Any], float]:
        turn = {"role": "user", "content": _turn_text(state.said, question, message)}
        request = JSONRequest([*self._prefix, turn], self._schema, ctx.session_id)
        return await model_call(self._llm.complete_json(request), self._limits.llm_timeout,
                                self._llm_seconds)

    def _grounded(self, raw: dict[str, Any], message: str, state: FormState,
                  asked: Slot | None) -> tuple[dict[str, str], bool]:
        """The words the user really said, per slot, with corrections sent where they belong:
        "make that X instead of Y" goes to the slot that holds Y; words for a free-text slot
        that another slot's type reads, said as a change, go to that slot; the same words
        given for two slots go to the slot being asked, else the first."""
        words: dict[str, str] = {}
        for slot in self._spec.slots:
            value = raw.get(slot.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            kept = grounded(slot, value, message) if isinstance(value, str) else None
            if kept is not None and slot.type == "choice" and slot is not asked and \
                    match_choice(kept, [(c.value, c.synonyms) for c in slot.choices]) is None:
                continue  # "Sam Carter" names no stylist: words of another slot (the name)
            if kept is not None:
                words[slot.name] = widen(slot, kept, message)
        self._redirect(words, message, state, asked)
        if asked is not None and asked.type == "text" and asked.name in words:
            # One answer listed in two parts ("a Tata Nexon and a Tata Punch" for the cars),
            # which the model split over the asked free-text slot and another empty one (the
            # name "Tata Punch"): the whole list answers the question, unless the message
            # names the other slot ("..., and the name is Arjun").
            for slot in self._spec.slots:
                if slot.type == "text" and slot.name != asked.name and slot.name in words and \
                        not state.filled(slot.name) and not _cued(slot, message):
                    joined = _listed_together(words[asked.name], words[slot.name], message)
                    if joined is not None:
                        words.pop(slot.name)
                        words[asked.name] = joined
        for slot in self._spec.slots:  # an option named word for word, which the model missed
            if slot.type != "choice":  # (or shortened: "single" of "two single beds")
                continue
            named = _named_choice(slot, message)
            if named is None:
                continue
            if (slot.name not in words and not state.filled(slot.name)) or (
                    slot.name in words and words[slot.name].lower() != named.lower() and
                    repairs.overlaps(words[slot.name], named) and
                    len(tokens(named)) > len(tokens(words[slot.name]))):
                words[slot.name] = named
        # A date, a time, a count or a yes/no the message plainly holds, which the model left
        # out ("... for 2 guests for 3 nights from tomorrow, arriving at 6 pm ...", "It's not
        # urgent").
        empty = [s for s in self._spec.slots if s.type in ("date", "time", "integer", "number",
                                                          "boolean")
                 and s.name not in words and not state.filled(s.name)]
        for name, said in typed_finder.missed(empty, message, self._spec.slots).items():
            if self._spec.slot(name).type in ("integer", "number") and any(
                    c.type == "choice" and (named := _named_choice(c, said)) is not None and
                    number_words_in(named) for c in self._spec.slots):
                continue  # "a four bed" names the home's size, an option: no count
            # Not words another typed slot took; for a count, only words with a number
            # ("One VIP ticket" is a count though "VIP" is the seat).
            count = self._spec.slot(name).type in ("integer", "number")
            if not any((repairs.overlaps(said, taken) and (not count or number_words_in(taken)))
                       if self._spec.slot(other).type != "text" else
                       (_claimed(self._spec.slot(other), taken) and
                        set(tokens(said)) - _LINKING <= set(tokens(taken)))
                       for other, taken in words.items()):
                words[name] = said
        # Words given to a patterned slot that its pattern refuses and another patterned slot's
        # takes ("sorry, my ID is actually E20418" given to the asset tag IT-12345): that
        # slot's.
        for slot in [s for s in self._spec.slots if s.pattern and s.name in words]:
            if matching_part(slot.pattern, words[slot.name]) is not None:
                continue
            fits = [(o, part) for o in self._spec.slots if o.pattern and o is not slot
                    and (part := matching_part(o.pattern, words[slot.name])) is not None]
            if len(fits) == 1 and fits[0][0].name not in words:
                words.pop(slot.name)
                words[fits[0][0].name] = fits[0][1]
        # A patterned free-text slot's value the model missed ("prescription number 903 417")
        for slot in self._spec.slots:
            if slot.type == "text" and slot.pattern and slot.name not in words and \
                    not state.filled(slot.name):
                part = matching_part(slot.pattern, message)
                if part is None or len(tokens(part)) > 6:
                    continue
                # The model may have put it in another free-text slot (a postcode as the
                # address): the pattern claims it.
                for other in [n for n, w in words.items() if repairs.overlaps(part, w) and
                              self._spec.slot(n).type == "text" and
                              not _claimed(self._spec.slot(n), w) and
                              set(tokens(w)) <= set(tokens(part))]:
                    words.pop(other)
                if not any(repairs.overlaps(part, w) for n, w in words.items()
                           if self._spec.slot(n).type != "text" or self._spec.slot(n).pattern):
                    words[slot.name] = part  # also out of notes that hold it ("mobile is ...")
        # A number said in a unit belongs to the count of that unit ("45 kilos" to the weight
        # in kg, not the parcel count).
        for name in [n for n in words if self._spec.slot(n).type in ("integer", "number")]:
            owner = unit_owner(self._spec.slot(name), words[name], self._spec.slots)
            if owner is not None and (owner.name not in words or
                                      repairs.overlaps(words[owner.name], words[name])):
                words[owner.name] = words.pop(name)
        # A count said with its noun ("make it four nights", "2 bathrooms actually") belongs
        # to that count, not to a time or date the model read from its number, nor to another
        # count whose noun the message does not say.
        counts = [s for s in self._spec.slots if s.type in ("integer", "number")]
        for slot in counts:
            phrase = typed_finder.count_phrase(slot, message, counts)
            if phrase is None or slot.name in words:
                continue
            misread = [n for n, w in words.items() if set(tokens(w)) <= set(tokens(phrase)) and (
                self._spec.slot(n).type in ("time", "date") or (
                    self._spec.slot(n).type in ("integer", "number") and
                    typed_finder.count_phrase(self._spec.slot(n), message, counts) is None))]
            if misread:
                for name in misread:
                    words.pop(name)
                words[slot.name] = phrase
            elif state.filled(slot.name) and repairs.marks_change(message) and \
                    not any(repairs.overlaps(phrase, w) for w in words.values()) and \
                    not same_number(phrase, state.said.get(slot.name) or ""):
                # "oh wait, there are actually 2 bathrooms", which the model missed
                words[slot.name] = phrase
        # Free-text words that hold another slot's value ("A suite for 8 people" given as the
        # guest's name, "2 guests" as the name) are not that slot's, unless the message names
        # the slot or it was asked, or they say more than that value ("My laptop won't turn
        # on since this morning" is the problem, though "laptop" is the category).
        for slot in self._spec.slots:
            if slot.type != "text" or slot.name not in words or (
                    asked is not None and slot.name == asked.name) or \
                    _claimed(slot, words[slot.name]) or _cued(slot, message, self._spec.slots):
                continue
            held = [o for o in self._spec.slots if o.type != "text" and o.name in words and
                    o is not slot and repairs.overlaps(words[slot.name], words[o.name])]
            others = {t for o in held for t in tokens(words[o.name])}
            if held and (asked in held or  # the answer to the question, copied: not a note
                         len([w for w in detail_words(words[slot.name]) if w not in others]) < 2):
                words.pop(slot.name)
        self._names(words, message, state, asked)
        for name in list(words):
            twin = next((other for other in words if other != name and name in words
                         and words[other].lower() == words[name].lower()
                         and not self._said_twice(words[name], message)), None)
            if twin is not None:
                # The one whose type reads the words ("e-bikes" is the bike, not the hours),
                # else the slot asked, else the first.
                now = datetime.now(self._tz)
                readable = [n for n in (name, twin)
                            if _reads(self._spec.slot(n), words[n], now, self._tz)]
                keep = readable[0] if len(readable) == 1 else \
                    name if asked is not None and name == asked.name else \
                    twin if asked is not None and twin == asked.name else None
                if keep is None:
                    first = next(s.name for s in self._spec.slots if s.name in (name, twin))
                    keep = first
                words.pop(twin if keep == name else name)
        self._one_number_one_slot(words, message, asked)
        cancel = mentions(message, self._spec.cancel_words) and (
            raw.get("intent") == CANCEL or
            (not words and repairs.drops_task(message, self._spec.cancel_words)))
        if asked is not None and asked.type == "text" and asked.name not in words:
            # Words the model gave a typed slot that its type cannot read ("backwards" for the
            # child seat, from "the child seat should face backwards" answering the notes):
            # not that slot's, so the message may answer the free-text question.
            now = datetime.now(self._tz)
            for name in [n for n in words if self._spec.slot(n).type != "text"
                         and read(self._spec.slot(n), words[n], now, self._tz).unreadable]:
                words.pop(name)
        if not words and not cancel and asked is not None and asked.type == "text" and \
                not asked.pattern and not asked.resolve and not names.is_name(asked) and \
                len(detail_words(message)) >= 2 and not repairs.marks_change(message) and \
                not message.rstrip().endswith("?") and \
                not mentions(message, self._spec.cancel_words):
            # The answer to a free-text question, which the model failed to copy ("leave it
            # with the concierge" for the driver's notes): the message is the answer.
            words[asked.name] = message.strip().rstrip(".!")
        return words, cancel

    def _plainly(self, slot: Slot, words: str) -> bool:
        """Whether the words plainly hold a value of this typed slot: a date or time phrase, a
        count with its noun or a short number, an option named whole."""
        if slot.type in ("date", "time"):
            return bool(typed_finder.phrases(slot.type, words))
        if slot.type in ("integer", "number"):
            counts = [s for s in self._spec.slots if s.type in ("integer", "number")]
            return typed_finder.count_phrase(slot, words, counts) is not None or (
                parse_number(words) is not None and len(tokens(words)) <= SHORT_ANSWER_WORDS)
        if slot.type == "choice":
            return _named_choice(slot, words) is not None
        return False

    @staticmethod
    def _said_twice(words: str, message: str) -> bool:
        """"2 bed, 2 bath", "yes, there's a lift ... and yes, packing help": the same number
        or words said twice may fill two slots."""
        number = parse_number(words)
        if number is not None:
            return times_said(number, message) >= 2
        said = " ".join(tokens(words))
        return bool(said) and len(re.findall(rf"\b{re.escape(said)}\b",
                                             " ".join(tokens(message)))) >= 2

    def _one_number_one_slot(self, words: dict[str, str], message: str,
                             asked: Slot | None) -> None:
        """A number said once fills one slot: "two in the afternoon" answering the time is
        not also two tickets. The slot asked keeps it, else the time."""
        for name in [n for n in words if self._spec.slot(n).type in ("integer", "number")]:
            number = parse_number(words[name])
            if number is None or times_said(number, message) != 1:
                continue
            rivals = [o for o in words if o != name and self._spec.slot(o).type == "time"
                      and _canonical(number) in number_words_in(words[o])]
            if not rivals:
                continue
            if asked is not None and asked.name == name:
                for other in rivals:
                    words.pop(other)
            else:
                words.pop(name)

    def _names(self, words: dict[str, str], message: str, state: FormState,
               asked: Slot | None) -> None:
        """A name slot's words that cannot be a name ("Hi", "my cousins", a "labradoodle"
        the user wrote in lower case) are dropped; a name the model missed is taken: one the
        user introduces ("Name's Rachel Green") for the person, else the message's one
        capitalised name ("get Rosie in for a haircut") for the one empty name slot."""
        named = [s for s in self._spec.slots if names.is_name(s)]
        for slot in named:
            said = words.get(slot.name)
            if said is not None and (not names.could_be_name(said) or
                                     names.possessed(said, message) or (
                    (asked is None or slot.name != asked.name) and
                    names.written_lower_only(said, message))):
                words.pop(slot.name)
        empty = [s for s in named if s.name not in words and not state.filled(s.name)]
        taken = [*words.values(), *(v for v in state.said.values() if v)] + [
            term for s in self._spec.slots if s.type == "choice" for c in s.choices
            for term in (c.value, *c.synonyms)]
        people = [s for s in empty if names.is_person(s)]
        name = names.said_name(message)
        if len(people) == 1 and name is not None and \
                not any(repairs.overlaps(name, w) for w in taken):
            words[people[0].name] = name
            taken.append(name)
            empty.remove(people[0])
        if len(empty) == 1:
            name = names.capitalised(message, taken)
            if name is not None:
                words[empty[0].name] = name

    def _redirect(self, words: dict[str, str], message: str, state: FormState,
                  asked: Slot | None) -> None:
        swap = repairs.instead_of(message)
        if swap is not None:
            new, old = swap
            holder = next((s for s in self._spec.slots if s.name in state.said
                           and repairs.overlaps(old, state.said[s.name])), None)
            if holder is not None:
                for name in [n for n, w in words.items() if repairs.overlaps(w, new)
                             or repairs.overlaps(w, old)]:
                    other = self._spec.slot(name)
                    if name != holder.name and other.type not in ("text", holder.type) and \
                            set(tokens(words[name])) < set(tokens(new)) and \
                            not repairs.overlaps(words[name], old):
                        continue  # "two e-bikes instead of the tandem": the two is the count
                    words.pop(name)
                words[holder.name] = widen(holder, new, message)
                return
        if not repairs.marks_change(message):
            return
        now = datetime.now(self._tz)
        if asked is not None and asked.type == "text" and asked.name in words and any(
                self._spec.slot(o).type != "text" and
                set(tokens(words[o])) < set(tokens(words[asked.name]))
                for o in words if o != asked.name):
            # The whole correction copied into the slot asked besides the slot it changes
            # ("actually make it the Elm Street one" as the name, and the branch): not an
            # answer to the question.
            words.pop(asked.name)
            return
        for slot in self._spec.slots:
            # "sorry, make that Thursday June 17th instead" given to another empty free-text
            # slot: a change is of something said, so it goes to the filled slot that reads it.
            said = words.get(slot.name)
            if slot.type != "text" or said is None or state.filled(slot.name) or (
                    asked is not None and slot.name == asked.name):
                continue
            takers = [t for t in self._spec.slots if t.type not in ("text", "boolean")
                      and state.filled(t.name) and
                      (t.name not in words or words[t.name] == state.said.get(t.name))
                      and _reads(t, said, now, self._tz)]
            if len(takers) == 1:
                words.pop(slot.name)
                words[takers[0].name] = widen(takers[0], said, message)
        if asked is not None and asked.name in words and (
                asked.type == "text" or not _reads(asked, words[asked.name], now, self._tz)):
            # "make that 1 pm instead" given to the yes/no asked: another slot's change
            value = words[asked.name]
            takers = [s for s in self._spec.slots if s.type not in ("text", "boolean")
                      and s.name != asked.name and s.name not in words
                      and _reads(s, value, now, self._tz)]
            if any(s.type in ("time", "date") for s in takers):  # "2 pm" is a time, not 2
                takers = [s for s in takers if s.type not in ("integer", "number")]
            filled = [s for s in takers if state.filled(s.name)]
            target = filled[0] if len(filled) == 1 else takers[0] if len(takers) == 1 else None
            if asked.type == "text" and (len(filled) != 1 or not self._plainly(filled[0], value)):
                # An answer to a free-text question ("200 Deansgate, Manchester ... instead")
                # leaves it only as the plain change of a value said before ("make it 8:30 am")
                target = None
            if target is not None:
                words[target.name] = widen(target, words.pop(asked.name), message)
                return
        named = [s for s in self._spec.slots if s.type == "text" and state.filled(s.name)
                 and s.name not in words and _cued(s, message, self._spec.slots)]
        new = repairs.said_new_value(message)
        if len(named) == 1 and new is not None and detail_words(new) and \
                not any(repairs.overlaps(new, w) or repairs.overlaps(w, new)
                        for w in words.values()) and \
                not any(self._spec.slot(n).type == "text" for n in words):
            # "sorry, I got the new address wrong, it's 31 Priory Avenue, Caversham", which
            # the model missed: the one filled free-text slot the message names
            words[named[0].name] = new
            return
        clause = repairs.change_clause(message)
        typed = [n for n in words if (slot := self._spec.slot(n)) and slot.type != "text"]
        if clause is None or typed or any(repairs.overlaps(w, clause) for w in words.values()) \
                or repairs.drops_task(message, self._spec.cancel_words):
            return  # no correction, the model took it already, or "actually, never mind"
        # A correction said beside an answer ("an electric car, oh and make it 8:45 pm
        # instead") that the model missed: the one filled typed slot that reads it.
        takers = [s for s in self._spec.slots if s.type not in ("text", "boolean")
                  and s.name not in words and state.filled(s.name)
                  and _reads(s, clause, now, self._tz)]
        if len(takers) == 1:
            words[takers[0].name] = clause

    # -- the agent's own resolution ------------------------------------------------------------

    async def _resolve(self, slot: Slot, value: Any, said: str, ctx: ActionContext,
                       events: list[Event], on_step: StepCallback | None,
                       known: dict[str, Any] | None = None) -> tuple[Any, str | None, int]:
        """(value, None, actions run) or (None, the reason it was refused, actions run). The
        first rule whose `when` matches decides; with none, the typed value stands. Besides
        `{said}`, `{value}` and the rule's groups, `{<slot>}` is another slot's value as
        known now (empty when not yet filled), for checks across slots ("is the tutor free
        on {lesson_date} at {value}")."""
        for rule in slot.resolve:
            placeholders = rule.match(said)
            if placeholders is None:
                continue
            for name, other in (known or {}).items():
                placeholders.setdefault(name, "" if other is None else str(other))
            placeholders["value"] = str(value)
            action = self._registry.get(rule.action)
            assert action is not None and action.run is not None
            arguments = {k: fill(v, placeholders) for k, v in rule.arguments.items()}
            try:
                arguments = action.validate(arguments)
            except ActionArgumentsError:
                return None, rule.refusal(placeholders, None), 0
            started = time.perf_counter()
            observation = await self._steps.run(action.name, arguments, ctx)
            took = (time.perf_counter() - started) * 1000
            await self._steps.record(events, action.name, arguments, observation, on_step,
                                     took)
            resolved = rule.take(observation)
            if resolved is None:
                return None, rule.refusal(placeholders, observation), 1
            typed = as_slot_type(slot, resolved)
            if typed is None:
                return None, f"{action.name} gave {resolved!r}, which is no {slot.type}.", 1
            return typed, None, 1
        return value, None, 0
