"""Shared session store on Redis (`redis.asyncio`) for many replicas.

- A session is one hash (`version`, `body`) whose key expires with the session (Redis TTL,
  refreshed by every save). Saves are a Lua compare-and-swap on `version`, so they are atomic
  and never interleave with another replica's.
- Listing uses sorted sets scored by update time (one per user and one for all), paginated by
  score; expiry uses a sorted set scored by expiry time, so cleanup reads only stale ids.
- Turns are serialized across replicas by a lock key holding its owner's token, with a lease
  that is renewed while the turn runs and lapses when the holder dies. A turn takes the lock and
  reads the session in one script, and saves and unlocks in another: two round trips a turn,
  not four; and the script calls of turns that reach the store together go as one command
  (`redis_batch.py`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import redis.asyncio as aioredis

from ..clock import Clock
from ..errors import VersionConflict
from .base import Session, decode_cursor, encode_cursor
from .locks import Renewal, busy, lease_tokens
from .redis_batch import ScriptBatcher
from .redis_connection import pack_with_hiredis
from .sqlite import to_us
from .turns import UnlockingTurn

PREFIX = "as:"
SAVE = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if ARGV[1] == '0' then
  -- A session that expired by the service's clock but not yet by Redis's may be replaced.
  local expires = redis.call('HGET', KEYS[1], 'expires_us')
  if expires and tonumber(expires) <= tonumber(ARGV[9]) then current = '0' end
end
-- With a lock key and token (a turn's commit), the turn's lock goes with the write.
if KEYS[5] and redis.call('GET', KEYS[5]) == ARGV[10] then redis.call('DEL', KEYS[5]) end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'body', ARGV[3], 'expires_us', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[7]) end
return 1
"""
# KEYS: lock, session; ARGV: token, lease ms. The session's hash, or false when the lock is taken.
BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('HGETALL', KEYS[2])
"""
# KEYS: lock; ARGV: token[, lease ms]. Only the lock's owner may renew or release it.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
POLL_SECONDS = 0.02


def _session_key(session_id: str) -> str:
    return f"{PREFIX}s:{session_id}"


def _user_key(user_id: str) -> str:
    return f"{PREFIX}u:{user_id}"


def _lock_key(session_id: str) -> str:
    return f"{PREFIX}lock:{session_id}"


ALL_KEY, EXPIRY_KEY = f"{PREFIX}all", f"{PREFIX}exp"


class RedisSessionStore:
    def __init__(self, url: str, clock: Clock, lease_seconds: float = 60.0) -> None:
        # A blocking pool: under a burst, callers wait for a connection instead of failing.
        pool = pack_with_hiredis(aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=200, timeout=30))
        self._pool = pool
        self._redis = aioredis.Redis(connection_pool=pool)
        self._clock = clock
        self._lease = lease_seconds
        self._scripts = ScriptBatcher(self._redis, {
            "save": SAVE, "begin": BEGIN, "renew": RENEW, "release": RELEASE})
        self._tokens = lease_tokens()

    def _now_us(self) -> int:
        return to_us(self._clock.now())

    def _decode(self, session_id: str, data: dict[str, str]) -> Session | None:
        if not data or "body" not in data:
            return None
        body = json.loads(data["body"])
        session = Session.model_validate({**body, "session_id": session_id,
                                          "version": int(data["version"])})
        return session if to_us(session.expires_at) > self._now_us() else None

    async def get(self, session_id: str) -> Session | None:
        return self._decode(session_id, await self._redis.hgetall(_session_key(session_id)))

    async def save(self, session: Session, expected_version: int) -> Session:
        return await self._write(session, expected_version)

    async def _write(self, session: Session, expected_version: int,
                     lock_token: str | None = None) -> Session:
        saved = session.model_copy(update={"version": expected_version + 1})
        body = saved.model_dump_json(exclude={"session_id", "version"})
        expires_ms = to_us(saved.expires_at) // 1000
        user_key = _user_key(saved.user_id) if saved.user_id else ""
        keys = [_session_key(saved.session_id), ALL_KEY, EXPIRY_KEY, user_key or ALL_KEY]
        args = [str(expected_version), str(saved.version), body, expires_ms,
                to_us(saved.updated_at), to_us(saved.expires_at), saved.session_id, user_key,
                self._now_us()]
        if lock_token is not None:
            keys.append(_lock_key(saved.session_id))
            args.append(lock_token)
        applied = await self._scripts.run("save", keys, args)
        if applied != 1:
            raise VersionConflict("The session was changed by another turn; retry.")
        return saved

    async def _forget(self, session_id: str, user_id: str | None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_session_key(session_id))
            pipe.zrem(ALL_KEY, session_id)
            pipe.zrem(EXPIRY_KEY, session_id)
            if user_id:
                pipe.zrem(_user_key(user_id), session_id)
            await pipe.execute()

    async def delete(self, session_id: str) -> bool:
        session = await self.get(session_id)
        raw_user = await self._redis.hget(_session_key(session_id), "body")
        user_id = json.loads(raw_user).get("user_id") if raw_user else None
        await self._forget(session_id, user_id)
        return session is not None

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        index = _user_key(user_id) if user_id is not None else ALL_KEY
        high: str = "+inf"
        last: tuple[int, str] | None = None
        if cursor is not None:
            stamp, last_id = decode_cursor(cursor)
            last = (to_us(stamp), last_id)
            high = str(last[0])
        page: list[Session] = []
        offset = 0
        batch = limit + 1
        while len(page) <= limit:
            rows = await self._redis.zrevrangebyscore(index, high, "-inf", start=offset,
                                                      num=batch, withscores=True)
            if not rows:
                break
            offset += len(rows)
            candidates = [(sid, int(score)) for sid, score in rows
                          if last is None or (int(score), sid) < last]
            async with self._redis.pipeline(transaction=False) as pipe:
                for sid, _ in candidates:
                    pipe.hgetall(_session_key(sid))
                found = await pipe.execute()
            stale = []
            for (sid, _), data in zip(candidates, found, strict=True):
                session = self._decode(sid, data)
                if session is None or (user_id is not None and session.user_id != user_id):
                    # Expired, or the id now names another user's session.
                    stale.append(sid)
                else:
                    page.append(session)
            if stale:
                await self._redis.zrem(index, *stale)
            page.sort(key=lambda s: (to_us(s.updated_at), s.session_id), reverse=True)
        more = len(page) > limit
        page = page[:limit]
        next_cursor = encode_cursor(page[-1].updated_at, page[-1].session_id) if more else None
        return page, next_cursor

    async def count_live(self) -> int:
        return int(await self._redis.zcount(EXPIRY_KEY, f"({self._now_us()}", "+inf"))

    async def delete_expired(self) -> int:
        """Reads only the ids whose expiry score has passed. A hash Redis already expired has
        lost its owner; its entry in the user index goes when a listing meets it."""
        now = self._now_us()
        removed = 0
        for session_id in await self._redis.zrangebyscore(EXPIRY_KEY, "-inf", now):
            raw = await self._redis.hget(_session_key(session_id), "body")
            body = json.loads(raw) if raw else {}
            if body and to_us(datetime.fromisoformat(body["expires_at"])) > now:
                continue
            await self._forget(session_id, body.get("user_id"))
            removed += 1
        return removed

    @asynccontextmanager
    async def _turn(self, session_id: str, wait: float) -> AsyncIterator[UnlockingTurn]:
        """Take the lock (polling until `wait` runs out) and read the session, in one script
        per try; renew the lease while the turn runs; unlock unless the commit did."""
        key, token = _lock_key(session_id), self._tokens()
        lease_ms = int(self._lease * 1000)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            data = await self._scripts.run("begin", [key, _session_key(session_id)],
                                           [token, lease_ms])
            if data is not None:
                break
            if asyncio.get_running_loop().time() >= deadline:
                raise busy()
            await asyncio.sleep(POLL_SECONDS)
        # HGETALL's flat [field, value, ...] list, as a script returns it.
        session = self._decode(session_id, dict(zip(data[::2], data[1::2], strict=True)))
        turn = UnlockingTurn(session, lambda new, version: self._write(
            new, version, lock_token=token))

        async def renew() -> None:
            await self._scripts.run("renew", [key], [token, lease_ms])

        try:
            with Renewal(renew, self._lease / 3):
                yield turn
        finally:
            if not turn.released:
                await self._scripts.run("release", [key], [token])

    def turn(self, session_id: str, wait: float) -> AbstractAsyncContextManager[UnlockingTurn]:
        return self._turn(session_id, wait)

    @asynccontextmanager
    async def _locked(self, session_id: str, wait: float) -> AsyncIterator[None]:
        async with self._turn(session_id, wait):
            yield

    def lock(self, session_id: str, wait: float) -> AbstractAsyncContextManager[None]:
        return self._locked(session_id, wait)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._scripts.close()
        await self._redis.aclose()
        await self._pool.disconnect()

