"""Request rate limiting with the `limits` library: per API key (or client address when the
service is open) and per user, from `RATE_LIMIT` (e.g. `60/minute`). With the Redis session
store the counters live in the same Redis, so the limit holds across replicas."""

from __future__ import annotations

import hashlib
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from .errors import RateLimited


class RateLimiter:
    def __init__(self, spec: str, session_store: str) -> None:
        self._item = parse(spec)
        storage: Storage
        if session_store.startswith(("redis://", "rediss://")):
            storage = RedisStorage(f"async+{session_store}", implementation="redispy",
                                   key_prefix="as-rate")
        elif session_store.startswith("redis+cluster://"):
            storage = RedisClusterStorage(f"async+{session_store}", implementation="redispy",
                                          key_prefix="as-rate")
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)

    async def hit(self, scope: str, identity: str) -> None:
        """Count one request; RateLimited (429, with Retry-After) past the limit."""
        if await self._limiter.hit(self._item, scope, identity):
            return
        stats = await self._limiter.get_window_stats(self._item, scope, identity)
        retry_after = max(1, int(stats.reset_time - time.time() + 0.999))
        raise RateLimited(f"Too many requests: the limit is {self._item}. Retry in "
                          f"{retry_after} s.", headers={"Retry-After": str(retry_after)})

    async def hit_caller(self, api_key: str | None, address: str | None) -> None:
        if api_key:  # never keep the key itself, only a digest
            await self.hit("key", hashlib.sha256(api_key.encode()).hexdigest()[:24])
        else:
            await self.hit("address", address or "unknown")

    async def hit_user(self, user_id: str | None) -> None:
        if user_id:
            await self.hit("user", user_id)
