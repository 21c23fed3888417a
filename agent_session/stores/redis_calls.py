"""The Redis store's calls: each a short list of commands (a script call, perhaps with index
updates before it) sent as one redis-py pipeline, answering as its last command would.

The pipeline is not transactional: on a Redis Cluster redis-py splits it by node, so a call
never needs keys of different slots together, and every script still touches the keys of one
session only. Scripts go by `EVALSHA`; one that the server has lost (a restart, a failover, a
node that never saw it) is sent once more with its text (`EVAL`). (Sharing one pipeline among
the calls of a loop iteration measured no gain worth keeping: `bench/README.md`.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

Command = tuple[Any, ...]


class Script:
    """A Lua script called by name: `call(keys, args)` is the `EVALSHA` command for it."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()

    def call(self, keys: Sequence[Any], args: Sequence[Any]) -> Command:
        return ("EVALSHA", self.sha, len(keys), *keys, *args)

    def text_call(self, command: Command) -> Command:
        return ("EVAL", self.body, *command[2:])


class ScriptCalls:
    """`run(*commands)` answers as the last command alone would (errors raised as redis-py
    raises them)."""

    def __init__(self, client: aioredis.Redis | aioredis.RedisCluster,
                 scripts: Mapping[str, str]) -> None:
        self._client = client
        self.scripts = {name: Script(body) for name, body in scripts.items()}
        self._by_sha = {script.sha: script for script in self.scripts.values()}
        # On a cluster a lone EVALSHA still goes as a pipeline: sent alone through redis-py's
        # cluster client, a test saw a script's effect twice (concurrent first calls, NOSCRIPT).
        self._single = not isinstance(client, aioredis.RedisCluster)

    async def _execute(self, commands: Sequence[Command]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return await pipe.execute(raise_on_error=False)

    async def run(self, *commands: Command) -> Any:
        if len(commands) == 1 and self._single:  # no pipeline object: less CPU a call
            try:
                return await self._client.execute_command(*commands[0])
            except NoScriptError:
                return await self._client.execute_command(
                    *self._by_sha[commands[0][1]].text_call(commands[0]))
        replies = await self._execute(commands)
        lost = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:
            again = await self._execute([self._by_sha[commands[i][1]].text_call(commands[i])
                                         for i in lost])
            for i, reply in zip(lost, again, strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies[-1]
