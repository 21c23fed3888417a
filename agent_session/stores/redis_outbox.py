"""The Redis store's outbox (`outbox.py`), on one Redis or a Redis Cluster.

Each session's events are a list in the session's own slot (`{session_id}`), pushed by the
same script that saves the turn, so they are written with it or not at all. A sender's lease on
a session's oldest event is a key in the same slot: set while an attempt runs, and set to the
retry time after a failed one, so nobody attempts it before then. The sessions that have events
are found through one sorted set (the due index, scored by when to look at the session next),
which is another slot: it is updated just before the save, as the other indexes are, and an
entry is removed only once the list was seen empty and the entry's time has passed. A writer
always moves the entry's time past the end of its own pipeline (`LOOK_AGAIN_US`), so a sender
can never remove the entry of an event that is being pushed.
"""

from __future__ import annotations

from .outbox import OutboxEvent, now_us

PREFIX = "as:"
DUE_KEY = f"{PREFIX}obdue"
LOOK_AGAIN_US = 5_000_000  # the due index looks at a session this long after a write
GONE_MS = 60_000

# KEYS: events, lease; ARGV: owner, lease ms. The oldest event (leased now), 0 when there is
# none, 1 when another sender holds it or it waits for its retry.
CLAIM = """
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return head
"""
# KEYS: events, lease; ARGV: owner, event id. How many events are left (-1: not the owner).
DELIVERED = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local head = redis.call('LINDEX', KEYS[1], 0)
if head and cjson.decode(head)['id'] == ARGV[2] then redis.call('LPOP', KEYS[1]) end
redis.call('DEL', KEYS[2])
return redis.call('LLEN', KEYS[1])
"""
# KEYS: events, lease; ARGV: owner, event id, the event with its attempt counted, retry ms.
FAILED = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local head = redis.call('LINDEX', KEYS[1], 0)
if head and cjson.decode(head)['id'] == ARGV[2] then redis.call('LSET', KEYS[1], 0, ARGV[3]) end
redis.call('SET', KEYS[2], 'retry', 'PX', ARGV[4])
return 1
"""
# KEYS: due index; ARGV: session id, now us. Drops the entry if its time has passed.
UNINDEX = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
"""
# KEYS: session, events, tombstone; ARGV: now us, event, tombstone ms. The sweep's removal of an
# expired session with its event; 0 when a turn renewed the session meanwhile. A session whose
# record Redis already dropped gets its event once (the tombstone), however many sweep it.
EXPIRE = """
local expires = redis.call('HGET', KEYS[1], 'expires_us')
if expires and tonumber(expires) > tonumber(ARGV[1]) then return 0 end
local first = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3])
if expires or first then redis.call('RPUSH', KEYS[2], ARGV[2]) end
redis.call('DEL', KEYS[1])
return 1
"""
SCRIPTS = {"claim": CLAIM, "delivered": DELIVERED, "failed": FAILED, "unindex": UNINDEX,
           "expire": EXPIRE}


def events_key(session_id: str) -> str:
    return f"{PREFIX}ob:{{{session_id}}}"


def lease_key(session_id: str) -> str:
    return f"{PREFIX}obl:{{{session_id}}}"


def gone_key(session_id: str) -> str:
    return f"{PREFIX}gone:{{{session_id}}}"


def look_again(session_id: str, at_us: int | None = None) -> tuple:
    """The due-index command a write of events sends before its script: never earlier than an
    entry already there (GT), so an older event's retry time only moves later."""
    return ("ZADD", DUE_KEY, "GT", at_us if at_us is not None else now_us() + LOOK_AGAIN_US,
            session_id)


def decode(reply: str) -> OutboxEvent:
    return OutboxEvent.model_validate_json(reply)
