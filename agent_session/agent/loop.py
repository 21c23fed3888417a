"""The action loop: ask the model for an action, run it, feed back the observation, until the
model asks the user a question or gives the final result.

The loop never raises for a bad action: an unknown name, broken or invalid arguments, a repeated
call or a failing action becomes an observation telling the model what to do instead. It raises
only for LLM failures and when the step budget runs out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import AgentDidNotConverge, LLMTimeout, ServiceError
from ..llm.base import ActionCall, LLMClient, LLMRequest
from ..metrics import Metrics
from .actions import ActionArgumentsError, ActionContext, ActionRegistry, parse_arguments

log = logging.getLogger(__name__)

StepCallback = Callable[[dict[str, Any]], Awaitable[None]]
MAX_OBSERVATION_CHARS = 2000


@dataclass
class TurnOutcome:
    kind: Literal["question", "final"]
    question: str | None = None
    result: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0


@dataclass(frozen=True)
class LoopLimits:
    max_iterations: int = 10
    llm_timeout: float = 30.0
    action_timeout: float = 10.0


def _canonical(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True, default=str)


def _clip(observation: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(observation, default=str)
    if len(text) <= MAX_OBSERVATION_CHARS:
        return observation
    return {"truncated": text[:MAX_OBSERVATION_CHARS]}


class AgentLoop:
    def __init__(
        self,
        llm: LLMClient,
        registry: ActionRegistry,
        limits: LoopLimits,
        system_prompt: Callable[[ActionContext], str],
        metrics: Metrics | None = None,
    ) -> None:
        self._llm_seconds = metrics.llm_seconds.labels(llm.name) if metrics else None
        self._llm = llm
        self._registry = registry
        self._limits = limits
        self._system_prompt = system_prompt

    async def run(
        self,
        history: list[dict[str, Any]],
        user_message: dict[str, Any],
        ctx: ActionContext,
        on_step: StepCallback | None = None,
    ) -> TurnOutcome:
        """Run one turn. `history` is not modified; the outcome's `events` are the new tool and
        assistant messages (the caller stores them after `user_message`)."""
        # Set-up (loading a local model, a watsonx client's first token) is not a model call:
        # it happens before the per-call deadline starts.
        await self._llm.check()
        events: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        prompt = self._system_prompt(ctx)
        specs = self._registry.specs()
        for step in range(1, self._limits.max_iterations + 1):
            request = LLMRequest(prompt, [*history, user_message, *events], specs, ctx.session_id)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._limits.llm_timeout):
                    reply = await self._llm.complete(request)
            except TimeoutError:
                raise LLMTimeout(
                    f"The language model did not answer within {self._limits.llm_timeout:g} s; "
                    "try again in a moment."
                ) from None
            llm_ms = (time.perf_counter() - started) * 1000
            if self._llm_seconds is not None:
                self._llm_seconds.observe(llm_ms / 1000)
            log.info("step %d: model chose %s in %.0f ms", step,
                     [a.name for a in reply.actions] or "no action", llm_ms)
            if not reply.actions:
                hint = (reply.text or "").strip()[:200]
                event = self._event("invalid_action", {"text": hint}, {
                    "error": "Reply with an action call, not text. To ask the user something, "
                             "call prompt_user; to finish, call final_answer."})
                events.append(event)
                await self._notify(on_step, event, llm_ms)
                continue
            for call in reply.actions:
                outcome = await self._perform(call, ctx, seen, events, on_step, llm_ms)
                if outcome is not None:
                    outcome.events = events + outcome.events
                    outcome.steps = step
                    return outcome
        raise AgentDidNotConverge(
            f"The agent did not reach an answer within {self._limits.max_iterations} steps; "
            "the session is unchanged. Rephrase the request or try again."
        )

    async def _perform(
        self,
        call: ActionCall,
        ctx: ActionContext,
        seen: dict[tuple[str, str], dict[str, Any]],
        events: list[dict[str, Any]],
        on_step: StepCallback | None,
        llm_ms: float,
    ) -> TurnOutcome | None:
        action = self._registry.get(call.name)
        raw = call.arguments if isinstance(call.arguments, dict) else {"raw": call.arguments[:500]}
        if action is None:
            observation = {"error": f"There is no action named {call.name[:80]!r}. "
                                    f"Use one of: {', '.join(self._registry.names)}."}
            return await self._record(events, call.name[:80], raw, observation, on_step, llm_ms)
        try:
            arguments = action.validate(parse_arguments(call.arguments))
        except ActionArgumentsError as exc:
            observation = {"error": f"Invalid arguments for {action.name}: {exc}. "
                                    "Call it again with arguments that fit its schema."}
            return await self._record(events, action.name, raw, observation, on_step, llm_ms)

        if action.ends_turn == "question":
            question = str(arguments.get("question", "")).strip()
            events.append({"role": "assistant", "kind": "question", "content": question})
            return TurnOutcome(kind="question", question=question)
        if action.ends_turn == "final":
            events.append({"role": "assistant", "kind": "final", "result": arguments,
                           "content": json.dumps(arguments)})
            return TurnOutcome(kind="final", result=arguments)

        key = (action.name, _canonical(arguments))
        if key in seen:
            observation = {"error": f"You already called {action.name} with these arguments in "
                                    "this turn. Do not repeat it: use its result below, ask the "
                                    "user, or give the final answer.",
                           "previous_result": seen[key]}
            return await self._record(events, action.name, arguments, observation, on_step, llm_ms)
        observation = await self._run(action.name, arguments, ctx)
        seen[key] = observation
        return await self._record(events, action.name, arguments, observation, on_step, llm_ms)

    async def _run(self, name: str, arguments: dict[str, Any], ctx: ActionContext) -> dict:
        action = self._registry.get(name)
        assert action is not None and action.run is not None
        try:
            async with asyncio.timeout(self._limits.action_timeout):
                result = await action.run(arguments, ctx)
        except TimeoutError:
            return {"error": f"{name} took longer than {self._limits.action_timeout:g} s; "
                             "try again or ask the user."}
        except ServiceError as exc:
            return {"error": exc.detail}
        except Exception:  # an action's bug must not end the conversation
            log.exception("action %s failed", name)
            return {"error": f"{name} failed unexpectedly; try another way or ask the user."}
        return _clip(result)

    async def _record(self, events, name, arguments, observation, on_step, llm_ms) -> None:
        event = self._event(name, arguments, observation)
        events.append(event)
        await self._notify(on_step, event, llm_ms)
        return None

    @staticmethod
    def _event(name: str, arguments: dict[str, Any], observation: dict[str, Any]) -> dict:
        return {"role": "tool", "name": name, "arguments": arguments,
                "observation": observation, "content": json.dumps(observation, default=str)}

    @staticmethod
    async def _notify(on_step: StepCallback | None, event: dict[str, Any], llm_ms: float) -> None:
        if on_step is not None:
            await on_step({"action": event["name"], "args": event["arguments"],
                           "observation": event["observation"], "ms": round(llm_ms)})
