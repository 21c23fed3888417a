"""Script calls made in the same event-loop iteration, sent to Redis as one pipeline.

Each redis-py command costs the event loop about 0.15-0.2 ms of CPU (the pool, the retry
wrapper, a write and a read with their wake-ups): more than the rest of a turn's store work. A
burst of turns, the case that decides latency, reaches the store within one loop iteration; their
calls share one connection, one write and one read here. A lone call costs one extra loop
iteration (`call_soon`), nothing more.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[AsyncScript, list[Any], list[Any], asyncio.Future[Any]]


class ScriptBatcher:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._queue: list[Call] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """The script's reply, as `script(keys=keys, args=args)` would give it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((script, keys, args, future))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.create_task(self._send(batch))
        self._sending.add(task)  # a reference until it ends (the loop keeps only weak ones)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[Call]) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for script, keys, args, _ in batch:
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the connection failed: every caller hears of it
            for *_, future in batch:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (script, keys, args, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, NoScriptError):
                # Redis lost its script cache (restart, SCRIPT FLUSH): the script call loads it.
                self._retry_alone(script, keys, args, future)
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def _retry_alone(self, script: AsyncScript, keys: list[Any], args: list[Any],
                     future: asyncio.Future[Any]) -> None:
        async def call() -> None:
            try:
                reply = await script(keys=keys, args=args)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                return
            if not future.done():
                future.set_result(reply)

        task = asyncio.create_task(call())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
