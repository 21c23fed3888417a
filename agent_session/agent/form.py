"""The `form` strategy: slot filling in the manner of Rasa CALM. The model's whole job on a turn
is one schema-constrained generation that copies out the user's words for each slot the message
gives or corrects; everything after it is deterministic: the words are grounded in the message,
each new value is resolved by the agent's own actions, a rejected one is asked again with the
reason, then the first missing slot is asked for, or the result is returned.

The form's state (values, the words they came from, the slot being asked) rides on the turn's
stored question event, so it needs no storage of its own and a failed turn changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..events import Event, FinalResult, Question, UserMessage
from ..llm.base import JSONRequest, LLMClient
from ..llm.messages import current_task
from ..metrics import Metrics
from .actions import ActionArgumentsError, ActionContext, ActionRegistry
from .loop import LoopLimits
from .slots import CANCEL, FormSpec, Slot, ground, mentions
from .steps import ActionSteps, model_call
from .strategy import StepCallback, TurnOutcome

log = logging.getLogger(__name__)
RULES = (
    "Answer with a JSON object holding only the fields this message gives or changes, each as "
    "the user's own words copied from the message. Leave out every field the message does not "
    "give: never guess, never copy a known value. A short answer (a place, a day, a time) "
    "answers the last question. Add \"intent\": \"cancel\" only when the user wants to cancel "
    "or start over."
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """`{name}` placeholders filled from `values`; unknown ones are left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    said: dict[str, str] = field(default_factory=dict)
    asking: str | None = None
    last_question: str | None = None

    @classmethod
    def from_history(cls, history: list[Event]) -> FormState:
        """The state after the current task's last question (empty after a result)."""
        for event in reversed(history[current_task(history):]):
            if not isinstance(event, Question):
                continue
            form = event.form or {}
            return cls(dict(form.get("values") or {}), dict(form.get("said") or {}),
                       form.get("asking"), event.content)
        return cls()

    def clear(self, name: str) -> None:
        self.values.pop(name, None)
        self.said.pop(name, None)


def _turn_text(known: dict[str, str], question: str | None, message: str) -> str:
    shown = "; ".join(f"{k}: {v}" for k, v in known.items()) or "nothing yet"
    return f"Known: {shown}\nLast question: {question or 'none'}\nMessage: {message}"


def prompt_prefix(spec: FormSpec) -> list[dict[str, str]]:
    """The fixed start of every extraction prompt (instructions, fields, worked examples):
    identical for every turn of every session, so a local model evaluates it once."""
    fields = "\n".join(f"- {slot.name}: {slot.description}" for slot in spec.slots)
    messages = [{"role": "system", "content": f"{spec.instructions}\n\nFields:\n{fields}\n\n"
                                              f"{RULES}"}]
    for example in spec.examples:
        messages.append({"role": "user",
                         "content": _turn_text(example.known, example.question, example.message)})
        messages.append({"role": "assistant", "content": json.dumps(example.extract)})
    return messages


class FormStrategy:
    name = "form"

    def __init__(self, llm: LLMClient, registry: ActionRegistry, spec: FormSpec,
                 result_schema: dict[str, Any], limits: LoopLimits,
                 metrics: Metrics | None = None, fallback_question: str | None = None,
                 warm_up: bool = False) -> None:
        self._llm = llm
        self._llm_seconds = metrics.llm_seconds.labels(llm.name) if metrics else None
        self._registry = registry
        self._spec = spec
        self._limits = limits
        self._steps = ActionSteps(registry, limits.action_timeout)
        self._prefix = prompt_prefix(spec)
        self._schema = spec.extraction_schema()
        self._result = jsonschema.Draft202012Validator(
            result_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        self._fallback = fallback_question or spec.slots[0].question
        self.needs_warm_up = warm_up

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
        log.info("form: the model has read its fixed prompt in %.1f s; ready", took)

    async def run(self, history: list[Event], user_message: UserMessage,
                  ctx: ActionContext, on_step: StepCallback | None = None) -> TurnOutcome:
        await self._llm.check()  # loading the model is not part of the call's deadline
        state = FormState.from_history(history)
        message = user_message.content
        raw, llm_ms = await self._extract(state, message, ctx)
        words, cancel = self._grounded(raw, message, state.asking)
        log.info("form: model said %s, grounded %s in %.0f ms", raw, words, llm_ms)

        events: list[Event] = []
        prefix = ""
        if cancel:
            state = FormState()
            prefix = self._spec.cancel_reply + " "
        rejected: list[tuple[Slot, str]] = []
        actions_run = 0
        for slot in self._spec.slots:
            said = words.get(slot.name)
            if said is None or (state.said.get(slot.name) == said and slot.name in state.values):
                continue
            value, reason, runs = await self._resolve(slot, said, ctx, events, on_step, llm_ms)
            actions_run += runs
            if value is None:
                state.clear(slot.name)
                rejected.append((slot, reason or ""))
            else:
                state.values[slot.name], state.said[slot.name] = value, said
        steps = 1 + actions_run

        if rejected:
            slot, reason = rejected[0]
            return self._ask(state, slot, f"{prefix}{reason} {slot.question}", events, raw, steps)
        missing = next((s for s in self._spec.slots if s.name not in state.values), None)
        if missing is not None:
            return self._ask(state, missing, prefix + missing.question, events, raw, steps)
        result = {slot.name: state.values[slot.name] for slot in self._spec.slots}
        bad = sorted({str(e.path[0]) for e in self._result.iter_errors(result) if e.path})
        if bad or not self._result.is_valid(result):
            slot = self._spec.slot(bad[0]) if bad else None
            if slot is None:
                return self._ask(state, None, self._fallback, events, raw, steps, kind="fallback")
            for name in bad:
                state.clear(name)
            return self._ask(state, slot, f"Sorry, that didn't work. {slot.question}", events,
                             raw, steps)
        events.append(FinalResult.of(result))
        return TurnOutcome(kind="final", result=result, events=events, steps=steps)

    # -- the one model call --------------------------------------------------------------------

    async def _extract(self, state: FormState, message: str,
                       ctx: ActionContext) -> tuple[dict[str, Any], float]:
        turn = {"role": "user", "content": _turn_text(state.said, state.last_question, message)}
        request = JSONRequest([*self._prefix, turn], self._schema, ctx.session_id)
        return await model_call(self._llm.complete_json(request), self._limits.llm_timeout,
                                self._llm_seconds)

    def _grounded(self, raw: dict[str, Any], message: str,
                  asking: str | None) -> tuple[dict[str, str], bool]:
        """The words the user really said, per slot. The same words given for two slots go to
        the slot being asked, else the first; a cancel needs a cancel word in the message."""
        words: dict[str, str] = {}
        for slot in self._spec.slots:
            value = raw.get(slot.name)
            kept = ground(value, message) if isinstance(value, str) else None
            if kept is None:
                continue
            twin = next((name for name, other in words.items()
                         if other.lower() == kept.lower()), None)
            if twin is not None:
                if slot.name != asking:
                    continue
                del words[twin]
            words[slot.name] = kept
        cancel = raw.get("intent") == CANCEL and mentions(message, self._spec.cancel_words)
        return words, cancel

    # -- deterministic resolution --------------------------------------------------------------

    async def _resolve(self, slot: Slot, said: str, ctx: ActionContext,
                       events: list[Event], on_step: StepCallback | None,
                       llm_ms: float) -> tuple[str | None, str | None, int]:
        """(value, None, actions run) or (None, the reason it was refused, actions run). The
        first rule whose `when` matches decides; with none, the words are the value."""
        for rule in slot.resolve:
            placeholders = rule.match(said)
            if placeholders is None:
                continue
            action = self._registry.get(rule.action)
            assert action is not None and action.run is not None
            reason = fill(rule.reject, placeholders)
            arguments = {k: fill(v, placeholders) for k, v in rule.arguments.items()}
            try:
                arguments = action.validate(arguments)
            except ActionArgumentsError:
                return None, reason, 0
            observation = await self._steps.run(action.name, arguments, ctx)
            await self._steps.record(events, action.name, arguments, observation, on_step,
                                     llm_ms)
            value = rule.take(observation)
            return (value, None, 1) if value is not None else (None, reason, 1)
        return said, None, 0

    def _ask(self, state: FormState, slot: Slot | None, question: str,
             events: list[Event], raw: dict[str, Any], steps: int,
             kind: str = "question") -> TurnOutcome:
        question = question.strip()
        events.append(Question(content=question, form={
            "values": dict(state.values), "said": dict(state.said),
            "asking": slot.name if slot else None, "extracted": raw}))
        return TurnOutcome(kind=kind, question=question, events=events,  # type: ignore[arg-type]
                           steps=steps)
