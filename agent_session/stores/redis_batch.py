"""Calls of a store's Lua scripts, batched per event-loop iteration (`batching.py`) into one
command: a dispatcher script that runs every call of the batch in order.

One command per batch rather than a pipeline of one per call: redis-py's per-command work
(packing, a read with its deadline, parsing, response callbacks) was most of the Redis store's
CPU per turn. The dispatcher holds each script as a function of its own `KEYS` and `ARGV`, so a
script runs exactly as it would alone; a call that fails (an error reply, a failing command)
fails for its caller only. The batch is one script, so Redis runs it atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from .batching import IterationBatcher

Call = tuple[int, list[Any], list[Any]]

# ARGV: the number of calls, then per call: its script's index, key count, argument count and
# arguments; KEYS: every call's keys in order. Each reply is wrapped, since a nil would end the
# reply array: {0} nil or false, {1, reply}, {2, error message}.
DISPATCH = """
local scripts = {%s}
local replies, k, a = {}, 1, 2
for i = 1, tonumber(ARGV[1]) do
  local script = scripts[tonumber(ARGV[a])]
  local nk, na = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local keys, args = {}, {}
  for j = 1, nk do keys[j] = KEYS[k + j - 1] end
  for j = 1, na do args[j] = ARGV[a + 2 + j] end
  k, a = k + nk, a + 3 + na
  local ok, reply = pcall(script, keys, args)
  if not ok then
    replies[i] = {2, type(reply) == 'table' and reply.err or tostring(reply)}
  elseif reply == nil or reply == false then
    replies[i] = {0}
  elseif type(reply) == 'table' and reply.err then
    replies[i] = {2, reply.err}
  elseif type(reply) == 'table' and reply.ok then
    replies[i] = {1, reply.ok}
  else
    replies[i] = {1, reply}
  end
end
return replies
"""


def dispatcher(scripts: list[str]) -> str:
    return DISPATCH % ",\n".join(
        f"function(KEYS, ARGV)\n{body.strip()}\nend" for body in scripts)


def unwrap(reply: list[Any]) -> Any:
    if reply[0] == 0:
        return None
    if reply[0] == 2:
        return ResponseError(reply[1])
    return reply[1]


class ScriptBatcher:
    """`run(name, keys, args)` answers as `EVALSHA` of that script would (errors as
    `ResponseError`), sharing one command with the calls of the same loop iteration."""

    def __init__(self, client: aioredis.Redis, scripts: Mapping[str, str]) -> None:
        self._index = {name: i for i, name in enumerate(scripts, start=1)}
        # `register_script` loads the dispatcher again when Redis lost it (restart, flush).
        self._dispatch = client.register_script(dispatcher(list(scripts.values())))
        self._batcher: IterationBatcher[Call] = IterationBatcher(self._send)

    async def run(self, name: str, keys: list[Any], args: list[Any]) -> Any:
        return await self._batcher.run((self._index[name], keys, args))

    async def _send(self, calls: list[Call]) -> list[Any]:
        keys: list[Any] = []
        argv: list[Any] = [len(calls)]
        for index, call_keys, call_args in calls:
            keys += call_keys
            argv += [index, len(call_keys), len(call_args), *call_args]
        replies = await self._dispatch(keys=keys, args=argv)
        return [unwrap(reply) for reply in replies]

    async def close(self) -> None:
        await self._batcher.close()
