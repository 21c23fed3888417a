"""The `react` strategy, the action loop: ask the model for an action, run it, feed back the
observation, until the model asks the user a question or gives the final result.

The loop never raises for a bad action: an unknown name, broken or invalid arguments, a repeated
call or a failing action becomes an observation telling the model what to do instead. A turn
that runs out of steps, or whose model repeats a call that was already refused, ends with the
agent's fallback question (a caller hears something useful; a 502 tells it nothing). It raises
only for LLM failures.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..events import Event, FinalResult, InvalidAction, Question, UserMessage
from ..llm.base import ActionCall, LLMClient, LLMRequest
from ..metrics import Metrics
from .actions import ActionArgumentsError, ActionContext, ActionRegistry, parse_arguments
from .definition import DEFAULT_FALLBACK_QUESTION
from .steps import ActionSteps, model_call
from .strategy import StepCallback, TurnOutcome

log = logging.getLogger(__name__)

__all__ = ["AgentLoop", "LoopLimits", "StepCallback", "TurnOutcome"]


@dataclass(frozen=True)
class LoopLimits:
    max_iterations: int = 10
    llm_timeout: float = 30.0
    action_timeout: float = 10.0


def _canonical(arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True, default=str)


class _Refused(Exception):
    """The model repeated a call that was already refused: the turn falls back."""


class AgentLoop:
    name = "react"
    needs_warm_up = False

    def __init__(
        self,
        llm: LLMClient,
        registry: ActionRegistry,
        limits: LoopLimits,
        system_prompt: Callable[[ActionContext], str],
        metrics: Metrics | None = None,
        fallback_question: str = DEFAULT_FALLBACK_QUESTION,
    ) -> None:
        self._llm_seconds = metrics.llm_seconds.labels(llm.name) if metrics else None
        self._llm = llm
        self._registry = registry
        self._limits = limits
        self._system_prompt = system_prompt
        self._steps = ActionSteps(registry, limits.action_timeout)
        self._fallback = fallback_question

    async def prepare(self) -> None:
        """Nothing to warm: a remote model loads nothing, a local one loads on first use."""

    async def run(
        self,
        history: list[Event],
        user_message: UserMessage,
        ctx: ActionContext,
        on_step: StepCallback | None = None,
    ) -> TurnOutcome:
        """Run one turn. `history` is not modified; the outcome's `events` are the new tool and
        assistant messages (the caller stores them after `user_message`)."""
        # Set-up (loading a local model, a watsonx client's first token) is not a model call:
        # it happens before the per-call deadline starts.
        await self._llm.check()
        events: list[Event] = []
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        refused: set[tuple[str, str]] = set()
        prompt = self._system_prompt(ctx)
        specs = self._registry.specs()
        for step in range(1, self._limits.max_iterations + 1):
            request = LLMRequest(prompt, [*history, user_message, *events], specs, ctx.session_id)
            reply, llm_ms = await model_call(self._llm.complete(request),
                                             self._limits.llm_timeout, self._llm_seconds)
            log.info("step %d: model chose %s in %.0f ms", step,
                     [a.name for a in reply.actions] or "no action", llm_ms)
            if not reply.actions:
                hint = (reply.text or "").strip()[:200]
                event = InvalidAction.said(hint, "Reply with an action call, not text. To ask "
                                                 "the user something, call prompt_user; to "
                                                 "finish, call final_answer.")
                events.append(event)
                await self._notify(on_step, event, llm_ms)
                continue
            try:
                for call in reply.actions:
                    outcome = await self._perform(call, ctx, seen, refused, events, on_step,
                                                  llm_ms)
                    if outcome is not None:
                        outcome.events = events + outcome.events
                        outcome.steps = step
                        return outcome
            except _Refused:
                log.info("step %d: the model repeated a refused call; falling back", step)
                return self._fall_back(events, step)
        log.info("no answer within %d steps; falling back", self._limits.max_iterations)
        return self._fall_back(events, self._limits.max_iterations)

    def _fall_back(self, events: list[Event], steps: int) -> TurnOutcome:
        question = Question(content=self._fallback, fallback=True)
        return TurnOutcome(kind="fallback", question=self._fallback,
                           events=[*events, question], steps=steps)

    async def _perform(
        self,
        call: ActionCall,
        ctx: ActionContext,
        seen: dict[tuple[str, str], dict[str, Any]],
        refused: set[tuple[str, str]],
        events: list[Event],
        on_step: StepCallback | None,
        llm_ms: float,
    ) -> TurnOutcome | None:
        action = self._registry.get(call.name)
        raw = call.arguments if isinstance(call.arguments, dict) else {"raw": call.arguments[:500]}
        attempt = (call.name[:80], _canonical(raw))
        if attempt in refused:
            raise _Refused
        if action is None:
            refused.add(attempt)
            observation = {"error": f"There is no action named {call.name[:80]!r}. "
                                    f"Use one of: {', '.join(self._registry.names)}."}
            return await self._record(events, call.name[:80], raw, observation, on_step, llm_ms)
        try:
            arguments = action.validate(parse_arguments(call.arguments))
        except ActionArgumentsError as exc:
            refused.add(attempt)
            observation = {"error": f"Invalid arguments for {action.name}: {exc}. "
                                    "Call it again with arguments that fit its schema."}
            return await self._record(events, action.name, raw, observation, on_step, llm_ms)

        if action.ends_turn == "question":
            question = str(arguments.get("question", "")).strip()
            events.append(Question(content=question))
            return TurnOutcome(kind="question", question=question)
        if action.ends_turn == "final":
            events.append(FinalResult.of(arguments))
            return TurnOutcome(kind="final", result=arguments)

        key = (action.name, _canonical(arguments))
        if key in seen:
            refused.add(attempt)
            observation = {"error": f"You already called {action.name} with these arguments in "
                                    "this turn. Do not repeat it: use its result below, ask the "
                                    "user, or give the final answer.",
                           "previous_result": seen[key]}
            return await self._record(events, action.name, arguments, observation, on_step, llm_ms)
        started = time.perf_counter()
        observation = await self._steps.run(action.name, arguments, ctx)
        seen[key] = observation
        action_ms = (time.perf_counter() - started) * 1000  # the step's own time
        return await self._record(events, action.name, arguments, observation, on_step,
                                  action_ms)

    async def _record(self, events, name, arguments, observation, on_step, llm_ms) -> None:
        await self._steps.record(events, name, arguments, observation, on_step, llm_ms)
        return None

    @staticmethod
    async def _notify(on_step: StepCallback | None, event: InvalidAction, llm_ms: float) -> None:
        if on_step is not None:
            await on_step({"action": event.name, "args": event.arguments,
                           "observation": event.observation, "ms": round(llm_ms)})
