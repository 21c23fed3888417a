"""The Redis store's calls (a pipeline of commands each, scripts by EVALSHA), against a real
redis-server and a real Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from agent_session.stores.redis import connect
from agent_session.stores.redis_calls import ScriptCalls

from .redis_server import flush

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
FAIL = "return redis.error_reply('refused ' .. ARGV[1])"
NOTHING = "if ARGV[1] == 'nil' then return nil end return false"
BOTH = "return {KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]) + 1}"
WRONG_TYPE = "return redis.call('INCR', KEYS[1])"  # on a hash: a failing command
SCRIPTS = {"incr": INCR, "fail": FAIL, "nothing": NOTHING, "both": BOTH, "wrong": WRONG_TYPE}


@pytest.fixture(params=["redis_url", "redis_cluster_url"])
async def client(request) -> AsyncIterator[aioredis.Redis | aioredis.RedisCluster]:
    url = request.getfixturevalue(request.param)
    await flush(url)
    redis = connect(url)
    yield redis
    await redis.aclose()


def call(batcher: ScriptCalls, name: str, keys: list, args: list):
    return batcher.run(batcher.scripts[name].call(keys, args))


async def test_concurrent_calls_each_get_their_own_reply(client):
    batcher = ScriptCalls(client, SCRIPTS)
    await call(batcher, "incr", ["{n}"], [0])  # the script is loaded
    replies = await asyncio.gather(*(call(batcher, "incr", ["{n}"], [i]) for i in range(1, 51)))
    # Each reply is the running total just after its own increment: all different, and the
    # increments (the differences between consecutive totals) are each caller's own once.
    totals = sorted(replies)
    steps = [b - a for a, b in zip([0, *totals], totals, strict=False)]
    assert sorted(steps) == list(range(1, 51)) and totals[-1] == 1275


async def test_keys_of_every_slot(client):
    """On a cluster each call goes to its key's node; each script sees only its own keys."""
    batcher = ScriptCalls(client, SCRIPTS)
    keys = [f"{{session-{i}}}:n" for i in range(30)]
    replies = await asyncio.gather(*(call(batcher, "incr", [k], [i]) for i, k in enumerate(keys)),
                                   *(batcher.run(("SET", f"plain-{i}", i)) for i in range(5)))
    assert replies[:30] == list(range(30)) and replies[30:] == [True] * 5
    assert [int(await client.get(k)) for k in keys] == list(range(30))


async def test_replies_are_what_each_script_alone_would_answer(client):
    batcher = ScriptCalls(client, SCRIPTS)
    await client.hset("{k}h", "f", "v")
    calls = [("both", ["{k}1", "{k}2"], ["héllo", 41]), ("nothing", ["{k}"], ["nil"]),
             ("nothing", ["{k}"], ["false"]), ("incr", ["{k}n"], [2]),
             ("both", ["{k}a", "{k}b"], ["", 0])]
    batched = await asyncio.gather(*(call(batcher, *c) for c in calls))
    assert batched == [["{k}1", "{k}2", "héllo", 42], None, None, 2, ["{k}a", "{k}b", "", 1]]


async def test_an_error_reaches_only_its_own_caller(client):
    batcher = ScriptCalls(client, SCRIPTS)
    await client.hset("{k}h", "f", "v")
    ok, refused, failed, after = await asyncio.gather(
        call(batcher, "incr", ["{k}n"], [5]), call(batcher, "fail", ["{k}"], ["y"]),
        call(batcher, "wrong", ["{k}h"], []), call(batcher, "incr", ["{k}n"], [1]),
        return_exceptions=True)
    assert (ok, after) == (5, 6)
    assert isinstance(refused, ResponseError) and "refused y" in str(refused)
    assert isinstance(failed, ResponseError) and "WRONGTYPE" in str(failed)


async def test_a_call_answers_its_last_command_unless_one_failed(client):
    batcher = ScriptCalls(client, SCRIPTS)
    await client.hset("{k}h", "f", "v")
    assert await batcher.run(("SET", "{k}a", 1), batcher.scripts["incr"].call(["{k}a"], [2])) == 3
    with pytest.raises(ResponseError):
        await batcher.run(("INCR", "{k}h"), ("SET", "{k}b", 1))


async def test_a_script_the_server_lost_is_sent_again(client):
    batcher = ScriptCalls(client, SCRIPTS)
    assert await call(batcher, "incr", ["{n}"], [3]) == 3
    await client.script_flush()  # as after a restart or failover (every node): sha unknown
    assert await call(batcher, "incr", ["{n}"], [4]) == 7


async def test_a_dead_connection_fails_every_caller():
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    batcher = ScriptCalls(dead, SCRIPTS)
    results = await asyncio.gather(*(call(batcher, "incr", ["n"], [1]) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)
    await dead.aclose()
