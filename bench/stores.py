"""Session store benchmark: turn overhead per store, listing latency with many sessions, and
bytes per stored session. Starts its own redis-server on a free loopback port.

    python bench/stores.py [--sessions 100000] [--turns 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_session.agent.loop import AgentLoop, LoopLimits
from agent_session.clock import SystemClock
from agent_session.llm.echo import EchoLLM
from agent_session.session_manager import SessionManager, SessionPolicy
from agent_session.stores.base import Session
from agent_session.stores.factory import build_session_store
from tests.redis_server import redis_server


def ten_messages(i: int) -> list[dict]:
    messages = []
    for turn in range(5):
        messages.append({"role": "user", "content": f"I need a cab from MG Road, turn {turn}",
                         "at": "2026-11-25T10:00:00+00:00"})
        messages.append({"role": "assistant", "kind": "question",
                         "content": "What time should the cab pick you up?"})
    return messages


class TimedStore:
    """The store with the time its turns spend in it counted: taking the lock with the read,
    and the commit (which also ends the lock on the shared stores)."""

    def __init__(self, store) -> None:
        self._store = store
        self.seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    @asynccontextmanager
    async def turn(self, session_id: str, wait: float):
        started = time.perf_counter()
        async with self._store.turn(session_id, wait) as held:
            self.seconds += time.perf_counter() - started
            yield TimedTurn(held, self)


class TimedTurn:
    def __init__(self, held, store: TimedStore) -> None:
        self._held, self._store = held, store
        self.session = held.session

    async def commit(self, session):
        started = time.perf_counter()
        try:
            return await self._held.commit(session)
        finally:
            self._store.seconds += time.perf_counter() - started


async def put(store, session):
    async with store.turn(session.session_id, 5) as held:
        return await held.commit(session)


async def turn_overhead(store, turns: int) -> tuple[float, float]:
    """Mean ms per turn with the echo model through the manager, and of that, ms in the store."""
    from agent_session.agent.actions import ActionRegistry
    from agent_session.agent.definition import ending_actions, load_definition

    registry = ActionRegistry(ending_actions(load_definition()))
    agent = AgentLoop(EchoLLM(), registry, LoopLimits(), lambda ctx: "system")
    timed = TimedStore(store)
    manager = SessionManager(timed, agent, SystemClock(), SessionPolicy())
    started = time.perf_counter()
    for i in range(turns):
        await manager.turn(f"bench-turn-{i % 20}", "bench-user", f"query {i}")
    total = time.perf_counter() - started
    timings = {"store": timed.seconds}
    return total / turns * 1000, timings["store"] / turns * 1000


async def fill(store, count: int) -> None:
    now = datetime.now(UTC)
    messages = ten_messages(0)
    batch = []
    for i in range(count):
        stamp = now - timedelta(microseconds=i)
        session = Session(session_id=f"s{i:07d}", user_id=f"u{i % 100}", created_at=stamp,
                          updated_at=stamp, expires_at=now + timedelta(hours=2),
                          messages=messages)
        batch.append(put(store, session))
        if len(batch) == 500:
            await asyncio.gather(*batch)
            batch = []
    await asyncio.gather(*batch)


async def listing(store) -> tuple[float, float]:
    """ms for the first page of one user's sessions, and for a page 50 pages deep."""
    started = time.perf_counter()
    page, cursor = await store.list("u7", 20, None)
    first = (time.perf_counter() - started) * 1000
    for _ in range(49):
        page, cursor = await store.list("u7", 20, cursor)
    started = time.perf_counter()
    await store.list("u7", 20, cursor)
    deep = (time.perf_counter() - started) * 1000
    return first, deep


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def size_per_session(name: str, store, url: str, count: int, grown: int) -> float:
    if name == "memory":  # objects: what the process grew by
        return grown / count
    if name == "sqlite":
        db = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(db) as conn:  # the log folded into the file, then its size
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return os.path.getsize(db) / count
    client = aioredis.Redis.from_url(url)
    info = await client.info("memory")
    await client.aclose()
    return info["used_memory"] / count


async def run(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="bench-stores-")
    with redis_server() as redis_url:
        urls = {"memory": "memory", "sqlite": f"sqlite:///{folder}/sessions.db",
                "redis": redis_url}
        print(f"{'store':8s} {'ms/turn':>8s} {'store ms/turn':>14s} {'list first ms':>14s} "
              f"{'list deep ms':>13s} {'bytes/session':>14s}  ({args.sessions} sessions of "
              "10 messages)")
        for name, url in urls.items():
            store = build_session_store(url, SystemClock())
            per_turn, in_store = await turn_overhead(store, args.turns)
            before = rss_bytes()
            await fill(store, args.sessions)
            grown = rss_bytes() - before
            if name == "memory":
                rss_line = (f"   memory store, {args.sessions} sessions: process RSS grew "
                            f"{grown / 2**20:.0f} MiB = {grown / args.sessions:.0f} bytes per "
                            "session (goal <= 20 KB)")
            first, deep = await listing(store)
            size = await size_per_session(name, store, url, args.sessions + 20, grown)
            print(f"{name:8s} {per_turn:8.2f} {in_store:14.2f} {first:14.2f} {deep:13.2f} "
                  f"{size:14.0f}")
            await store.close()
        print(rss_line)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=300)
    asyncio.run(run(parser.parse_args()))
