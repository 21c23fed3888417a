"""Redis connections that pack commands in C (hiredis), as redis-py's synchronous client does.

redis-py's asyncio connection packs every command in Python whatever is installed: with the
session scripts' dozen arguments that was a third of the store's CPU per turn (0.19 of 0.57 s
for 1,024 turns in process). Its synchronous client packs with `hiredis.pack_command` when
hiredis is installed; this gives the asyncio connections the same serializer.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.connection import HiredisRespSerializer

_PACKER = HiredisRespSerializer()


class HiredisPacking:
    """A mixin for a redis-py asyncio connection class."""

    def pack_command(self, *args: Any) -> list[bytes]:
        return _PACKER.pack(*args)


def pack_with_hiredis(pool: aioredis.ConnectionPool) -> aioredis.ConnectionPool:
    """`pool`, its connections (of whichever class its URL chose: TCP, TLS, unix socket) packing
    with hiredis."""
    base = pool.connection_class
    if not issubclass(base, HiredisPacking):
        pool.connection_class = type(f"HiredisPacking{base.__name__}", (HiredisPacking, base), {})
    return pool
