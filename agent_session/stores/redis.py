"""Shared session store on Redis (`redis.asyncio`) for many replicas, on one Redis or a Redis
Cluster (`redis+cluster://host:port[,host:port...]`).

- A session is one hash (`version`, `body`, `expires_us`) whose key expires with the session
  (Redis TTL, refreshed by every save). Saves are a Lua compare-and-swap on `version`, so they
  are atomic and never interleave with another replica's.
- Turns are serialized across replicas by a lock key holding its owner's token, with a lease
  that is renewed while the turn runs and lapses when the holder dies. A turn takes the lock and
  reads the session in one script, and saves and unlocks in another: two round trips a turn.
- Every script touches one session's keys only, which share the hash tag `{session_id}`, so
  they live in one cluster slot. The indexes (all sessions and each user's, scored by update
  time; expiry, scored by expiry time) are keys of their own, updated by plain commands in the
  same pipeline just before the save script. A crash between the two is harmless: an index
  entry whose session is missing, older or expired is skipped (and dropped) by listing and by
  the expiry sweep; a session whose index update was lost is still served by id, expires by its
  TTL, and is listed again from its next save.
- Each call's commands go as one redis-py pipeline (`redis_calls.py`), split by node by
  redis-py on a cluster.
- The outbox (`redis_outbox.py`): a turn's events are pushed by its save script. With
  `keep_expired_seconds`, an expired session's hash outlives its expiry by that long (reads
  treat it as gone), so the sweep can still say whose session expired.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode

from ..clock import Clock, to_us
from ..errors import VersionConflict
from . import redis_outbox as outbox
from .base import Session, decode_cursor, encode_cursor
from .locks import Renewal, busy, lease_tokens
from .outbox import ExpiryEvent, OutboxEvent, now_us
from .redis_calls import ScriptCalls
from .turns import UnlockingTurn

PREFIX = "as:"
CLUSTER_SCHEME = "redis+cluster://"
# KEYS: session[, lock[, events]]; ARGV: expected version, new version, body, expire-at ms,
# expires us, now us[, lock token[, event...]]. 1 when saved, 0 when the stored version is not
# the expected one (and no event is pushed).
SAVE = """
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if ARGV[1] == '0' then
  -- A session that expired by the service's clock but not yet by Redis's may be replaced.
  local expires = redis.call('HGET', KEYS[1], 'expires_us')
  if expires and tonumber(expires) <= tonumber(ARGV[6]) then current = '0' end
end
-- With a lock key and token (a turn's commit), the turn's lock goes with the write.
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[7] then redis.call('DEL', KEYS[2]) end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'body', ARGV[3], 'expires_us', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
for i = 8, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
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
# KEYS: lock, cancel; ARGV: ms. Names the lock's holder of the moment, so only that turn stops.
CANCEL = """
local owner = redis.call('GET', KEYS[1])
if owner then redis.call('SET', KEYS[2], owner, 'PX', ARGV[1]) return 1 end
return 0
"""
CANCEL_MS = 60_000
ALL_KEY, EXPIRY_KEY = f"{PREFIX}all", f"{PREFIX}exp"


def session_key(session_id: str) -> str:
    return f"{PREFIX}s:{{{session_id}}}"


def lock_key(session_id: str) -> str:
    return f"{PREFIX}lock:{{{session_id}}}"


def cancel_key(session_id: str) -> str:
    return f"{PREFIX}cancel:{{{session_id}}}"  # the lock's slot: one script touches both


def user_key(user_id: str) -> str:
    return f"{PREFIX}u:{user_id}"


def connect(url: str) -> aioredis.Redis | aioredis.RedisCluster:
    """A client for `redis://`, `rediss://`, `unix://` or `redis+cluster://` (the scheme the
    `limits` library uses, so `RATE_LIMIT` shares the same cluster)."""
    if url.startswith(CLUSTER_SCHEME):
        parts = urlsplit(url)
        nodes = []
        for address in parts.netloc.rpartition("@")[2].split(","):
            host, _, port = address.strip().rpartition(":")
            nodes.append(ClusterNode(host or "127.0.0.1", int(port or 6379)))
        return aioredis.RedisCluster(
            startup_nodes=nodes, decode_responses=True, max_connections=200,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None)
    # A blocking pool: under a burst, callers wait for a connection instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=200, timeout=30)
    return aioredis.Redis(connection_pool=pool)


class RedisSessionStore:
    def __init__(self, url: str, clock: Clock, lease_seconds: float = 60.0,
                 keep_expired_seconds: float = 0.0) -> None:
        self._redis = connect(url)
        self._clock = clock
        self._lease = lease_seconds
        self._keep_ms = int(keep_expired_seconds * 1000)
        self._calls = ScriptCalls(self._redis, {
            "save": SAVE, "begin": BEGIN, "renew": RENEW, "release": RELEASE, **outbox.SCRIPTS})
        self._scripts = self._calls.scripts
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
        return self._decode(session_id, await self._redis.hgetall(session_key(session_id)))

    async def _write(self, session: Session, expected_version: int,
                     lock_token: str | None = None,
                     events: Sequence[OutboxEvent] = ()) -> Session:
        saved = session.model_copy(update={"version": expected_version + 1})
        body = saved.model_dump_json(exclude={"session_id", "version"})
        sid, updated, expires = saved.session_id, to_us(saved.updated_at), to_us(saved.expires_at)
        keys = [session_key(sid)]
        args = [str(expected_version), str(saved.version), body,
                expires // 1000 + self._keep_ms, expires, self._now_us()]
        if lock_token is not None:
            keys.append(lock_key(sid))
            args.append(lock_token)
        indexes = [("ZADD", ALL_KEY, updated, sid), ("ZADD", EXPIRY_KEY, expires, sid)]
        if events:
            if lock_token is None:
                raise ValueError("events are written by a turn's commit")
            keys.append(outbox.events_key(sid))
            args += [event.model_dump_json() for event in events]
            indexes.append(outbox.look_again(sid))
        if saved.user_id:
            indexes.append(("ZADD", user_key(saved.user_id), updated, sid))
        applied = await self._calls.run(*indexes, self._scripts["save"].call(keys, args))
        if applied != 1:
            raise VersionConflict("The session was changed by another turn; retry.")
        return saved

    async def _forget(self, session_id: str, user_id: str | None) -> None:
        """The session first, then its index entries (an entry left behind is skipped)."""
        await self._redis.delete(session_key(session_id))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrem(ALL_KEY, session_id)
            pipe.zrem(EXPIRY_KEY, session_id)
            if user_id:
                pipe.zrem(user_key(user_id), session_id)
            await pipe.execute()

    async def delete(self, session_id: str) -> bool:
        data = await self._redis.hgetall(session_key(session_id))
        user_id = json.loads(data["body"]).get("user_id") if data.get("body") else None
        await self._forget(session_id, user_id)
        return self._decode(session_id, data) is not None

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        index = user_key(user_id) if user_id is not None else ALL_KEY
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
                    pipe.hgetall(session_key(sid))
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

    async def delete_expired(self, on_expiry: ExpiryEvent | None = None) -> int:
        """Reads only the ids whose expiry score has passed. A hash Redis already expired has
        lost its owner; its entry in the user index goes when a listing meets it. With
        `on_expiry`, the hash goes in one script with its event."""
        now = self._now_us()
        removed = 0
        for session_id in await self._redis.zrangebyscore(EXPIRY_KEY, "-inf", now):
            data = await self._redis.hgetall(session_key(session_id))
            body = json.loads(data["body"]) if data.get("body") else {}
            if body and to_us(datetime.fromisoformat(body["expires_at"])) > now:
                continue
            if on_expiry is not None:
                expired = None
                if body:
                    expired = Session.model_validate({**body, "session_id": session_id,
                                                      "version": int(data["version"])})
                event = on_expiry(session_id, expired)
                keys = [session_key(session_id), outbox.events_key(session_id),
                        outbox.gone_key(session_id)]
                if not await self._calls.run(outbox.look_again(session_id), self._scripts[
                        "expire"].call(keys, [now, event.model_dump_json(), outbox.GONE_MS])):
                    continue  # a turn renewed it meanwhile
            await self._forget(session_id, body.get("user_id"))
            removed += 1
        return removed

    async def claim_events(self, owner: str, lease_seconds: float, limit: int,
                           session_id: str | None = None) -> list[OutboxEvent]:
        """From the due index (or the one session named), each session's oldest event that no
        sender holds; a session seen with no events leaves the index (see the module)."""
        now = now_us()
        if session_id is not None:
            candidates = [session_id]
        else:
            candidates = await self._redis.zrangebyscore(outbox.DUE_KEY, "-inf", now,
                                                         start=0, num=limit)
        lease_ms = int(lease_seconds * 1000)
        replies = await asyncio.gather(*(self._calls.run(self._scripts["claim"].call(
            [outbox.events_key(sid), outbox.lease_key(sid)], [owner, lease_ms]))
            for sid in candidates))
        claimed = []
        for sid, reply in zip(candidates, replies, strict=True):
            if reply == 0:
                await self._calls.run(self._scripts["unindex"].call([outbox.DUE_KEY],
                                                                    [sid, now]))
            elif reply != 1:
                claimed.append(outbox.decode(reply))
        return claimed

    async def event_delivered(self, event: OutboxEvent, owner: str) -> None:
        sid = event.session_id
        left = await self._calls.run(self._scripts["delivered"].call(
            [outbox.events_key(sid), outbox.lease_key(sid)], [owner, event.id]))
        if left == 0:
            await self._calls.run(self._scripts["unindex"].call([outbox.DUE_KEY],
                                                                [sid, now_us()]))

    async def event_failed(self, event: OutboxEvent, owner: str, retry_in: float) -> None:
        sid, retry_ms = event.session_id, max(1, int(retry_in * 1000))
        again = event.model_copy(update={"attempts": event.attempts + 1})
        await self._calls.run(
            outbox.look_again(sid, now_us() + retry_ms * 1000),
            self._scripts["failed"].call([outbox.events_key(sid), outbox.lease_key(sid)],
                                         [owner, event.id, again.model_dump_json(), retry_ms]))

    async def outbox_backlog(self) -> tuple[int, int | None]:
        sessions = await self._redis.zrange(outbox.DUE_KEY, 0, 999)
        if not sessions:
            return 0, None
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in sessions:
                pipe.llen(outbox.events_key(sid))
                pipe.lindex(outbox.events_key(sid), 0)
            replies = await pipe.execute()
        heads = [outbox.decode(head).created_us for head in replies[1::2] if head]
        return sum(replies[::2]), min(heads, default=None)

    @asynccontextmanager
    async def _turn(self, session_id: str, wait: float) -> AsyncIterator[UnlockingTurn]:
        """Take the lock (polling until `wait` runs out) and read the session, in one script
        per try; renew the lease while the turn runs; unlock unless the commit did."""
        key, token = lock_key(session_id), self._tokens()
        lease_ms = int(self._lease * 1000)
        deadline = asyncio.get_running_loop().time() + wait
        begin = self._scripts["begin"].call([key, session_key(session_id)], [token, lease_ms])
        while True:
            data = await self._calls.run(begin)
            if data is not None:
                break
            if asyncio.get_running_loop().time() >= deadline:
                raise busy()
            await asyncio.sleep(POLL_SECONDS)
        # HGETALL's flat [field, value, ...] list, as a script returns it.
        session = self._decode(session_id, dict(zip(data[::2], data[1::2], strict=True)))
        turn = UnlockingTurn(session, lambda new, version, events: self._write(
            new, version, lock_token=token, events=events))

        async def asked_to_stop() -> bool:
            return await self._redis.get(cancel_key(session_id)) == token

        turn.cancel_check = asked_to_stop

        async def renew() -> bool:
            return bool(await self._calls.run(self._scripts["renew"].call([key],
                                                                          [token, lease_ms])))

        try:
            with Renewal(renew, self._lease / 3) as renewal:
                turn.renewal = renewal
                yield turn
        finally:
            if not turn.released:
                await self._calls.run(self._scripts["release"].call([key], [token]))

    def turn(self, session_id: str, wait: float) -> AbstractAsyncContextManager[UnlockingTurn]:
        return self._turn(session_id, wait)

    async def put_record(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._redis.set(f"{PREFIX}r:{key}", value, px=max(1, int(ttl_seconds * 1000)))

    async def get_record(self, key: str) -> str | None:
        return await self._redis.get(f"{PREFIX}r:{key}")

    async def cancel(self, session_id: str) -> bool:
        script = self._redis.register_script(CANCEL)
        keys = [lock_key(session_id), cancel_key(session_id)]
        return bool(await script(keys=keys, args=[CANCEL_MS]))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
