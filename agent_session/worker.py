"""One dedicated worker thread for a model that must not run twice at once (llama.cpp, Whisper,
hibari): calls queue instead of racing, and the event loop never blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Worker:
    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._retired: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:  # made on first use, and again after close
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
            if self._retired is not None:
                # A job still running on the closed thread finishes before this one starts:
                # two threads in one model crash it.
                self._executor.submit(self._retired.shutdown, wait=True)
                self._retired = None
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._retired, self._executor = self._executor, None
