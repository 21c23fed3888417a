"""The Redis commands of calls made in the same event-loop iteration, sent as one pipeline
(`batching.py`): one round trip instead of one per call.

Each call is a short list of commands (a script call, perhaps with index updates before it);
its reply is its last command's. The pipeline is redis-py's own, not transactional: on a Redis
Cluster redis-py splits it by node, so a batch never needs keys of different slots together,
and every script still touches the keys of one session only. A call that fails (an error reply)
fails for its caller only. Scripts go by `EVALSHA`; one that the server has lost (a restart, a
failover, a node that never saw it) is sent once more with its text (`EVAL`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from .batching import IterationBatcher

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


class PipelineBatcher:
    """`run(*commands)` answers as the last command alone would (errors raised as redis-py
    raises them), sharing one pipeline with the calls of the same loop iteration."""

    def __init__(self, client: aioredis.Redis | aioredis.RedisCluster,
                 scripts: Mapping[str, str]) -> None:
        self._client = client
        self.scripts = {name: Script(body) for name, body in scripts.items()}
        self._by_sha = {script.sha: script for script in self.scripts.values()}
        self._batcher: IterationBatcher[list[Command]] = IterationBatcher(self._send)

    async def run(self, *commands: Command) -> Any:
        return await self._batcher.run(list(commands))

    async def _execute(self, commands: list[Command]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return await pipe.execute(raise_on_error=False)

    async def _send(self, calls: list[list[Command]]) -> list[Any]:
        flat = [command for call in calls for command in call]
        replies = await self._execute(flat)
        lost = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:
            again = await self._execute([self._by_sha[flat[i][1]].text_call(flat[i])
                                         for i in lost])
            for i, reply in zip(lost, again, strict=True):
                replies[i] = reply
        answers, position = [], 0
        for call in calls:
            mine = replies[position:position + len(call)]
            position += len(call)
            failed = [reply for reply in mine if isinstance(reply, Exception)]
            answers.append(failed[0] if failed else mine[-1])
        return answers

    async def close(self) -> None:
        await self._batcher.close()
