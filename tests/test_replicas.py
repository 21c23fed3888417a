"""Real service processes sharing a store: Redis (single and Cluster) for replicas, SQLite across
restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from .service_process import ServiceProcess


@pytest.fixture(params=["redis_url", "redis_cluster_url"])
def two_replicas(request) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two service processes on one Redis, or on one three-master Redis Cluster."""
    url = request.getfixturevalue(request.param)
    a = ServiceProcess(SESSION_STORE=url).start()
    b = ServiceProcess(SESSION_STORE=url).start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def user_turns(session: dict) -> list[str]:
    return [m["content"] for m in session["messages"] if m["role"] == "user"]


async def test_conversation_alternating_between_replicas(two_replicas):
    a, b = two_replicas
    sid = f"alt-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(6):
            replica = (a, b)[i % 2]
            response = await client.post(f"{replica.url}/chat", json={
                "session_id": sid, "user_id": "u1", "query": f"turn {i}"})
            assert response.status_code == 200
            assert response.json()["query"] == f"You said: turn {i}"
        for replica in (a, b):
            session = (await client.get(f"{replica.url}/session/{sid}")).json()
            assert user_turns(session) == [f"turn {i}" for i in range(6)]
        forbidden = await client.post(f"{b.url}/chat", json={"session_id": sid, "user_id": "u2",
                                                              "query": "mine now"})
        assert forbidden.status_code == 403
        listed = (await client.get(f"{a.url}/sessions", params={"user_id": "u1"})).json()
        assert sid in [s["session_id"] for s in listed["sessions"]]


async def test_twenty_concurrent_turns_over_two_replicas_each_kept_once(two_replicas):
    a, b = two_replicas
    sid = f"burst-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=60) as client:
        results = await asyncio.gather(*(
            client.post(f"{(a, b)[i % 2].url}/chat",
                        json={"session_id": sid, "query": f"q{i:02d}"}) for i in range(20)))
        assert [r.status_code for r in results] == [200] * 20
        session = (await client.get(f"{a.url}/session/{sid}")).json()
    turns = user_turns(session)
    assert sorted(turns) == [f"q{i:02d}" for i in range(20)]
    # Consistent order: each question is answered right after its own turn, never interleaved.
    messages = session["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 20
    for user, assistant in zip(messages[::2], messages[1::2], strict=True):
        assert assistant["content"] == f"You said: {user['content']}"


async def test_killing_one_replica_loses_nothing(two_replicas):
    a, b = two_replicas
    sid = f"kill-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(3):
            assert (await client.post(f"{a.url}/chat", json={
                "session_id": sid, "query": f"before {i}"})).status_code == 200
        a.kill()
        response = await client.post(f"{b.url}/chat", json={"session_id": sid,
                                                             "query": "after"})
        assert response.status_code == 200
        session = (await client.get(f"{b.url}/session/{sid}")).json()
    assert user_turns(session) == ["before 0", "before 1", "before 2", "after"]


async def test_sqlite_session_survives_sigkill_and_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    first = ServiceProcess(SESSION_STORE=url).start()
    sid = "durable-1"
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for i in range(2):
                assert (await client.post(f"{first.url}/chat", json={
                    "session_id": sid, "user_id": "u1", "query": f"turn {i}"})).status_code == 200
    finally:
        first.kill()
    second = ServiceProcess(SESSION_STORE=url).start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(f"{second.url}/chat", json={
                "session_id": sid, "user_id": "u1", "query": "turn 2"})
            assert response.status_code == 200
            session = (await client.get(f"{second.url}/session/{sid}")).json()
            assert user_turns(session) == ["turn 0", "turn 1", "turn 2"]
            assert (await client.post(f"{second.url}/chat", json={
                "session_id": sid, "user_id": "u2", "query": "x"})).status_code == 403
    finally:
        second.stop()


async def test_two_processes_on_one_sqlite_file_serialize_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a = ServiceProcess(SESSION_STORE=url).start()
    b = ServiceProcess(SESSION_STORE=url).start()
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            results = await asyncio.gather(*(
                client.post(f"{(a, b)[i % 2].url}/chat",
                            json={"session_id": "shared", "query": f"q{i:02d}"})
                for i in range(10)))
            assert [r.status_code for r in results] == [200] * 10, (
                [r.text for r in results], a.logs(), b.logs())
            session = (await client.get(f"{b.url}/session/shared")).json()
        assert sorted(user_turns(session)) == [f"q{i:02d}" for i in range(10)]
        assert [m["role"] for m in session["messages"]] == ["user", "assistant"] * 10
    finally:
        a.stop()
        b.stop()
