"""Shared session store on Redis (`redis.asyncio`) for many replicas.

- A session is one hash (`version`, `body`) whose key expires with the session (Redis TTL,
  refreshed by every save). Saves are a Lua compare-and-swap on `version`, so they are atomic
  and never interleave with another replica's.
- Listing uses sorted sets scored by update time (one per user and one for all), paginated by
  score; expiry uses a sorted set scored by expiry time, so cleanup reads only stale ids.
- Turns are serialized across replicas by a Redis lock (redis-py's `Lock`) with a lease that is
  renewed while the turn runs and lapses when the holder dies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import LockError

from ..clock import Clock
from ..errors import VersionConflict
from .base import Session, decode_cursor, encode_cursor
from .locks import busy, renewing
from .sqlite import to_us

PREFIX = "as:"
SAVE = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if ARGV[1] == '0' then
  -- A session that expired by the service's clock but not yet by Redis's may be replaced.
  local expires = redis.call('HGET', KEYS[1], 'expires_us')
  if expires and tonumber(expires) <= tonumber(ARGV[9]) then current = '0' end
end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'body', ARGV[3], 'expires_us', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[7]) end
return 1
"""


def _session_key(session_id: str) -> str:
    return f"{PREFIX}s:{session_id}"


def _user_key(user_id: str) -> str:
    return f"{PREFIX}u:{user_id}"


ALL_KEY, EXPIRY_KEY = f"{PREFIX}all", f"{PREFIX}exp"


class RedisSessionStore:
    def __init__(self, url: str, clock: Clock, lease_seconds: float = 60.0) -> None:
        # A blocking pool: under a burst, callers wait for a connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(url, decode_responses=True,
                                                        max_connections=200, timeout=30)
        self._pool = pool
        self._redis = aioredis.Redis(connection_pool=pool)
        self._clock = clock
        self._lease = lease_seconds
        self._save = self._redis.register_script(SAVE)

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
        saved = session.model_copy(update={"version": expected_version + 1})
        body = saved.model_dump_json(exclude={"session_id", "version"})
        expires_ms = to_us(saved.expires_at) // 1000
        user_key = _user_key(saved.user_id) if saved.user_id else ""
        keys = [_session_key(saved.session_id), ALL_KEY, EXPIRY_KEY, user_key or ALL_KEY]
        applied = await self._save(keys=keys, args=[
            str(expected_version), str(saved.version), body, expires_ms,
            to_us(saved.updated_at), to_us(saved.expires_at), saved.session_id, user_key,
            self._now_us()])
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
    async def _locked(self, session_id: str, wait: float) -> AsyncIterator[None]:
        lock = self._redis.lock(f"{PREFIX}lock:{session_id}", timeout=self._lease,
                                blocking_timeout=max(wait, 0.01), sleep=0.02)
        if not await lock.acquire():
            raise busy()

        async def renew() -> None:
            with contextlib.suppress(LockError):
                await lock.reacquire()

        try:
            async with renewing(renew, self._lease / 3):
                yield
        finally:
            with contextlib.suppress(LockError):
                await lock.release()

    def lock(self, session_id: str, wait: float) -> AbstractAsyncContextManager[None]:
        return self._locked(session_id, wait)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.disconnect()

