"""Running one action for a strategy: under a deadline, its failures turned into observations,
recorded as a `tool` event and reported as a `step` (what `/chat/stream` sends)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from prometheus_client import Histogram

from .. import turn_budget
from ..errors import LLMTimeout, ServiceError
from ..events import ActionStep, Event
from .actions import ActionContext, ActionRegistry
from .strategy import StepCallback

log = logging.getLogger(__name__)
MAX_OBSERVATION_CHARS = 2000
T = TypeVar("T")


async def model_call(call: Awaitable[T], deadline: float,
                     seconds: Histogram | None) -> tuple[T, float]:
    """One model generation under the LLM deadline, or what is left of the turn if less (504
    past it), timed into `agent_llm_call_seconds`: (its answer, milliseconds). A turn out of
    time or whose lease was lost stops here, before the call."""
    try:
        turn_budget.check()
    except BaseException:
        if inspect.iscoroutine(call):
            call.close()
        raise
    allowed = turn_budget.left(deadline)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(allowed):
            answer = await call
    except TimeoutError:
        raise LLMTimeout(f"The language model did not answer within {allowed:.3g} s; "
                         "try again in a moment.") from None
    llm_ms = (time.perf_counter() - started) * 1000
    if seconds is not None:
        seconds.observe(llm_ms / 1000)
    return answer, llm_ms


def clip(observation: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(observation, default=str)
    if len(text) <= MAX_OBSERVATION_CHARS:
        return observation
    return {"truncated": text[:MAX_OBSERVATION_CHARS]}


class ActionSteps:
    def __init__(self, registry: ActionRegistry, action_timeout: float) -> None:
        self._registry = registry
        self._timeout = action_timeout

    async def run(self, name: str, arguments: dict[str, Any], ctx: ActionContext) -> dict:
        """The action's observation; never raises for the action's own failure."""
        action = self._registry.get(name)
        assert action is not None and action.run is not None
        turn_budget.check()  # a turn out of time, or whose lease was lost, runs no more
        allowed = turn_budget.left(self._timeout)
        try:
            async with asyncio.timeout(allowed):
                result = await action.run(arguments, ctx)
        except TimeoutError:
            return {"error": f"{name} took longer than {allowed:.3g} s; "
                             "try again or ask the user."}
        except ServiceError as exc:
            return {"error": exc.detail}
        except Exception:  # an action's bug must not end the conversation
            log.exception("action %s failed", name)
            return {"error": f"{name} failed unexpectedly; try another way or ask the user."}
        return clip(result)

    @staticmethod
    async def record(events: list[Event], name: str, arguments: dict[str, Any],
                     observation: dict[str, Any], on_step: StepCallback | None,
                     ms: float) -> None:
        """`ms`: the step's own time (the action's run; for a refused call, the model's)."""
        events.append(ActionStep.of(name, arguments, observation))
        if on_step is not None:
            await on_step({"action": name, "args": arguments, "observation": observation,
                           "ms": round(ms)})
