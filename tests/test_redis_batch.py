"""Script calls batched into one pipeline per loop iteration, against a real redis-server; commands
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


async def test_a_burst_goes_as_one_pipeline_and_each_caller_gets_its_reply(client, monkeypatch):
    batcher = ScriptBatcher(client)
    incr = client.register_script(INCR)
    pipelines = []
    original = client.pipeline

    def counting(*args, **kwargs):
        pipelines.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "pipeline", counting)
    await incr(keys=["n"], args=[0])  # load the script
    replies = await asyncio.gather(*(batcher.run(incr, ["n"], [i]) for i in range(1, 51)))
    assert len(pipelines) == 1
    # Run in order, so the running totals are the prefix sums.
    assert replies == [i * (i + 1) // 2 for i in range(1, 51)]
    await batcher.close()


async def test_an_error_reaches_only_its_own_caller(client):
    batcher = ScriptBatcher(client)
    incr, fail = client.register_script(INCR), client.register_script(FAIL)
    await incr(keys=["n"], args=[0])
    await client.script_load(FAIL)
    ok, bad = await asyncio.gather(batcher.run(incr, ["n"], [5]), batcher.run(fail, ["n"], ["y"]),
                                   return_exceptions=True)
    assert ok == 5
    assert isinstance(bad, ResponseError) and "refused y" in str(bad)
    await batcher.close()


async def test_a_flushed_script_cache_is_reloaded(client):
    batcher = ScriptBatcher(client)
    incr = client.register_script(INCR)
    await client.script_flush()  # as after a Redis restart: the sha is unknown
    assert await batcher.run(incr, ["n"], [3]) == 3
    assert await batcher.run(incr, ["n"], [4]) == 7
    await batcher.close()


async def test_a_dead_connection_fails_every_caller_in_the_batch(client):
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    batcher = ScriptBatcher(dead)
    incr = dead.register_script(INCR)
    results = await asyncio.gather(*(batcher.run(incr, ["n"], [1]) for _ in range(3)),
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
