"""Script calls batched into one command per loop iteration, against a real redis-server; commands
packed by hiredis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from agent_session.clock import SystemClock
from agent_session.stores.redis import RedisSessionStore
from agent_session.stores.redis_batch import ScriptBatcher
from agent_session.stores.redis_connection import HiredisPacking, pack_with_hiredis

from .redis_server import redis_server

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
FAIL = "return redis.error_reply('refused ' .. ARGV[1])"
NOTHING = "if ARGV[1] == 'nil' then return nil end return false"
BOTH = "return {KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]) + 1}"
WRONG_TYPE = "return redis.call('INCR', KEYS[1])"  # on a hash: a failing command
SCRIPTS = {"incr": INCR, "fail": FAIL, "nothing": NOTHING, "both": BOTH, "wrong": WRONG_TYPE}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
async def client(redis_url) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    yield redis
    await redis.aclose()


async def evalsha_calls(client: aioredis.Redis) -> int:
    return (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)


async def test_a_burst_goes_as_one_command_and_each_caller_gets_its_reply(client):
    batcher = ScriptBatcher(client, SCRIPTS)
    await batcher.run("incr", ["n"], [0])  # the dispatcher loaded
    before = await evalsha_calls(client)
    replies = await asyncio.gather(*(batcher.run("incr", ["n"], [i]) for i in range(1, 51)))
    assert await evalsha_calls(client) == before + 1
    # Run in order, so the running totals are the prefix sums.
    assert replies == [i * (i + 1) // 2 for i in range(1, 51)]
    await batcher.close()


async def test_replies_are_what_each_script_alone_would_answer(client):
    batcher = ScriptBatcher(client, SCRIPTS)
    await client.hset("h", "f", "v")
    calls = [("both", ["k1", "k2"], ["héllo", 41]), ("nothing", [], ["nil"]),
             ("nothing", [], ["false"]), ("incr", ["n"], [2]), ("both", ["a", "b"], ["", 0])]
    batched = await asyncio.gather(*(batcher.run(*call) for call in calls))
    alone = [await client.eval(SCRIPTS[name], len(keys), *keys, *args)
             for name, keys, args in calls]
    alone[3] = 2  # the batch ran its incr first
    assert batched == alone == [["k1", "k2", "héllo", 42], None, None, 2, ["a", "b", "", 1]]
    await batcher.close()


async def test_an_error_reaches_only_its_own_caller(client):
    batcher = ScriptBatcher(client, SCRIPTS)
    await client.hset("h", "f", "v")
    ok, refused, failed, after = await asyncio.gather(
        batcher.run("incr", ["n"], [5]), batcher.run("fail", [], ["y"]),
        batcher.run("wrong", ["h"], []), batcher.run("incr", ["n"], [1]),
        return_exceptions=True)
    assert (ok, after) == (5, 6)
    assert isinstance(refused, ResponseError) and "refused y" in str(refused)
    assert isinstance(failed, ResponseError) and "WRONGTYPE" in str(failed)
    await batcher.close()


async def test_a_flushed_script_cache_is_reloaded(client):
    batcher = ScriptBatcher(client, SCRIPTS)
    assert await batcher.run("incr", ["n"], [3]) == 3
    await client.script_flush()  # as after a Redis restart: the sha is unknown
    assert await batcher.run("incr", ["n"], [4]) == 7
    await batcher.close()


async def test_a_dead_connection_fails_every_caller_in_the_batch(client):
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    batcher = ScriptBatcher(dead, SCRIPTS)
    results = await asyncio.gather(*(batcher.run("incr", ["n"], [1]) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)
    await batcher.close()
    await dead.aclose()


def test_commands_pack_in_c_exactly_as_redis_py_packs_them_in_python():
    python = aioredis.Connection()
    for url, base in (("redis://127.0.0.1:1/0", aioredis.Connection),
                      ("rediss://127.0.0.1:1/0", aioredis.SSLConnection),
                      ("unix:///tmp/none.sock", aioredis.UnixDomainSocketConnection)):
        pool = pack_with_hiredis(aioredis.BlockingConnectionPool.from_url(url))
        assert issubclass(pool.connection_class, base)
        assert issubclass(pool.connection_class, HiredisPacking)
        assert pack_with_hiredis(pool).connection_class is pool.connection_class  # once
    fast = pack_with_hiredis(aioredis.ConnectionPool.from_url("redis://x")).connection_class()
    for args in (("EVALSHA", "f" * 40, 2, "k1", "k2", "héllo \"x\"", b"\x00raw", 12345678901234,
                  "", -7), ("CONFIG GET", "maxmemory"), (b"CLIENT LIST",)):
        assert b"".join(fast.pack_command(*args)) == b"".join(python.pack_command(*args))


async def test_the_session_store_packs_with_hiredis(redis_url):
    store = RedisSessionStore(redis_url, SystemClock())
    assert issubclass(store._pool.connection_class, HiredisPacking)
    await store.ping()
    await store.close()
