"""The queue in front of the one embedded model: a call whose caller has gone stops, and a call
that could not be served within its deadline is refused at once.

llama.cpp runs one generation at a time on its worker thread. Without this, a call whose turn
timed out ran on to its token limit and every later call queued behind it, each timing out in
turn. Here each call carries a stop flag that its generation checks after every token (set when
the awaiting coroutine is cancelled: a turn deadline, a client gone), a queued call whose caller
is gone never starts, and a new call is refused (503, `Retry-After`) when the calls ahead of it,
at the measured time per call, would use up most of its deadline.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from .. import turn_budget
from ..errors import LLMBusy
from ..worker import Worker

T = TypeVar("T")
# Seconds per call: the median of the last few calls. The first call is left out: it reads the
# long fixed prompt prefix cold (20 s where later calls take 2), which says nothing about the rest.
RECENT_CALLS = 8
# A call is admitted only if it should end within this share of its deadline: calls vary (a
# long message, another program on the cores), and a late one is a 504 after all.
HEADROOM = 0.8


class Abandoned(Exception):
    """The caller left before the call started."""


class ModelQueue:
    def __init__(self, worker: Worker, deadline: float) -> None:
        self._worker = worker
        self._deadline = deadline
        self._pending = 0
        self._recent: deque[float] = deque(maxlen=RECENT_CALLS)
        self._first_done = False

    @property
    def pending(self) -> int:
        """Calls queued or running."""
        return self._pending

    @property
    def seconds_per_call(self) -> float | None:
        """None until a call has been measured: nothing is refused before that."""
        recent = list(self._recent)
        return statistics.median(recent) if recent else None

    def expected_wait(self) -> float:
        return self._pending * (self.seconds_per_call or 0.0)

    async def run(self, fn: Callable[[threading.Event], T]) -> T:
        """Run `fn(stop)` on the model's thread; `fn` must end soon after `stop` is set."""
        per_call = self.seconds_per_call
        if self._pending and per_call is not None:
            wait = self.expected_wait()
            if wait + per_call > HEADROOM * turn_budget.left(self._deadline):
                raise LLMBusy(
                    f"The embedded model is busy: {self._pending} calls are ahead of this one "
                    f"(about {math.ceil(wait)} s). Retry shortly.", retry_after=wait)
        stop = threading.Event()
        self._pending += 1
        try:
            return await self._worker.run(self._timed, fn, stop)
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            self._pending -= 1

    def _timed(self, fn: Callable[[threading.Event], T], stop: threading.Event) -> T:
        if stop.is_set():
            raise Abandoned
        started = time.perf_counter()
        result = fn(stop)
        if stop.is_set():  # a stopped call's time says nothing about the next one
            return result
        if self._first_done:
            self._recent.append(time.perf_counter() - started)
        self._first_done = True
        return result
