"""A deterministic LLM client that replays a script: the tests' stand-in for a real model.

Each script entry is an `LLMReply`, a list of `ActionCall`s, a dict (the answer to a JSON
request: the form strategy's extraction), an exception to raise, or a callable taking the
request (sync or async) and returning one of those.

The form strategy may take a second, narrower look at a long message (a JSON request for only
the slots still empty): the script answers it only with an `Again`
entry, queued right after the first look's answer, and with nothing (`{}`) otherwise, so a
script written for one call a turn stays right. Second looks are kept in `second_looks`, apart
from `requests`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from agent_session.agent.form import SECOND_LOOK
from agent_session.errors import LLMBadResponse
from agent_session.llm.base import ActionCall, JSONRequest, LLMReply, LLMRequest

Step = LLMReply | list[ActionCall] | dict[str, Any] | BaseException | Callable[[Any], Any]


class Again(dict):
    """The script's answer to a second look at the same message."""


def _is_second_look(request: JSONRequest) -> bool:
    return SECOND_LOOK in request.messages[-1]["content"]


def call(name: str, **arguments: Any) -> ActionCall:
    """Shorthand for a well-formed action call in scripts."""
    return ActionCall(name=name, arguments=arguments)


class ScriptedLLM:
    name = "scripted"

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps: list[Step] = list(steps)
        self.requests: list[LLMRequest | JSONRequest] = []
        self.second_looks: list[JSONRequest] = []

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
        if _is_second_look(request):
            self.second_looks.append(request)
            if self._steps and isinstance(self._steps[0], Again):
                return dict(self._steps.pop(0))
            return {}
        step = await self._next(request)
        if not isinstance(step, dict):
            raise LLMBadResponse("The scripted model has an action where a JSON answer was due.")
        return dict(step)

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
