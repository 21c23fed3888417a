"""Redis script calls batched per event-loop iteration into one pipeline (`batching.py`)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from .batching import IterationBatcher

Call = tuple[AsyncScript, list[Any], list[Any]]


class ScriptBatcher:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._batcher: IterationBatcher[Call] = IterationBatcher(self._send)

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """The script's reply, as `script(keys=keys, args=args)` would give it."""
        return await self._batcher.run((script, keys, args))

    async def _send(self, calls: list[Call]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
        for i, ((script, keys, args), reply) in enumerate(zip(calls, replies, strict=True)):
            if isinstance(reply, NoScriptError):
                # Redis lost its script cache (restart, SCRIPT FLUSH): the script call loads it.
                try:
                    replies[i] = await script(keys=keys, args=args)
                except Exception as exc:
                    replies[i] = exc
        return replies

    async def close(self) -> None:
        await self._batcher.close()
