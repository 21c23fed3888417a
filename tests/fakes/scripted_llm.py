"""A deterministic LLM client that replays a script: the tests' stand-in for a real model.

Each script entry is an `LLMReply`, a list of `ActionCall`s, a dict (the answer to a JSON
request: the form strategy's extraction), an exception to raise, or a callable taking the
request (sync or async) and returning one of those.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from agent_session.errors import LLMBadResponse
from agent_session.llm.base import ActionCall, JSONRequest, LLMReply, LLMRequest

Step = LLMReply | list[ActionCall] | dict[str, Any] | BaseException | Callable[[Any], Any]


def call(name: str, **arguments: Any) -> ActionCall:
    """Shorthand for a well-formed action call in scripts."""
    return ActionCall(name=name, arguments=arguments)


class ScriptedLLM:
    name = "scripted"

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps: list[Step] = list(steps)
        self.requests: list[LLMRequest | JSONRequest] = []

    def extend(self, steps: Iterable[Step]) -> None:
        self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        return len(self._steps)

    async def _next(self, request: LLMRequest | JSONRequest) -> Any:
        self.requests.append(request)
        if not self._steps:
            raise LLMBadResponse("The scripted model has no step left.")
        step: Any = self._steps.pop(0)
        if callable(step) and not isinstance(step, BaseException):
            step = step(request)
            if inspect.isawaitable(step):
                step = await step
        if isinstance(step, BaseException):
            raise step
        return step

    async def complete(self, request: LLMRequest) -> LLMReply:
        step = await self._next(request)
        if isinstance(step, dict):
            raise LLMBadResponse("The scripted model has a JSON answer where an action was due.")
        if isinstance(step, LLMReply):
            return step
        return LLMReply(actions=list(step))

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        step = await self._next(request)
        if not isinstance(step, dict):
            raise LLMBadResponse("The scripted model has an action where a JSON answer was due.")
        return dict(step)

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
