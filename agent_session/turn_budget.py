"""One turn's budget, passed down every call the turn makes: the time left of
`TURN_TIMEOUT_SECONDS` (each model call, its retries, the embedded model's queue admission and
each action get what is left, capped by their own setting) and whether the turn still holds
its session (a lost lease stops the turn before its next model call or action).

A context variable, so it reaches every call of the turn (and the threads `asyncio.to_thread`
starts) without threading an argument through every protocol.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import LeaseLost, TurnTimeout


@dataclass(frozen=True)
class Budget:
    deadline: float  # time.monotonic()
    seconds: float
    held: Callable[[], bool]  # whether the turn still holds its session


_budget: ContextVar[Budget | None] = ContextVar("turn_budget", default=None)


@contextmanager
def turn_budget(seconds: float, held: Callable[[], bool] = lambda: True) -> Iterator[Budget]:
    budget = Budget(time.monotonic() + seconds, seconds, held)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def left(cap: float) -> float:
    """The seconds a call may take: its own `cap`, or what is left of the turn if less."""
    budget = _budget.get()
    if budget is None:
        return cap
    return max(0.0, min(cap, budget.deadline - time.monotonic()))


def check() -> None:
    """Before a model call or an action: raise when the turn may not go on (its time is up,
    or its lease on the session was lost to another replica)."""
    budget = _budget.get()
    if budget is None:
        return
    if not budget.held():
        raise LeaseLost("Another instance took this session over while the turn ran (its "
                        "lease lapsed); nothing was saved. Send the message again.")
    if budget.deadline - time.monotonic() <= 0:
        raise TurnTimeout(f"The turn did not finish within {budget.seconds:g} s and nothing "
                          "was saved; send the same message again.")
