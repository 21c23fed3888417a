"""Real service processes sharing a store: Redis (single and Cluster) for replicas, SQLite across
restarts."""

from __future__ import annotations

import asyncio
import time
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


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


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


@pytest.mark.parametrize("store", ["redis_url", "redis_cluster_url", "sqlite"])
async def test_a_replica_killed_during_a_turn_leaves_none_of_it(request, store, tmp_path):
    """Replica A dies in the middle of a turn (its model call takes 5 s): replica B gets the
    session once A's lease lapses (2 s), and the session holds B's turn and nothing of A's."""
    from .fakes.openai_server import FakeOpenAI
    from .fakes.server import serve
    from .fakes.watsonx import tool_calls

    url = (f"sqlite:///{tmp_path / 'shared.db'}" if store == "sqlite"
           else request.getfixturevalue(store))
    ask = tool_calls(("prompt_user", {"question": "Where should the cab pick you up from?"}))
    fake = FakeOpenAI(api_key="sk-fake", default=ask, delay=5.0)
    with serve(fake.app()) as model_url:
        env = {"SESSION_STORE": url, "TURN_LEASE_SECONDS": "2", "LLM_BACKEND": "openai",
               "OPENAI_BASE_URL": f"{model_url}/v1", "OPENAI_API_KEY": "sk-fake",
               "OPENAI_MODEL": "test-model", "AGENT_STRATEGY": "react"}
        a, b = ServiceProcess(**env).start(), ServiceProcess(**env).start()
        sid = f"mid-{uuid.uuid4().hex[:8]}"
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                doomed = asyncio.create_task(client.post(f"{a.url}/chat", json={
                    "session_id": sid, "query": "lost with replica A"}))
                # A holds the session and is in its model call:
                await asyncio.to_thread(wait_until, lambda: bool(fake.requests))
                a.kill()
                with pytest.raises(httpx.HTTPError):
                    await doomed
                fake.delay = 0.0
                started = asyncio.get_running_loop().time()
                taken = await client.post(f"{b.url}/chat", json={"session_id": sid,
                                                                  "query": "on replica B"})
                waited = asyncio.get_running_loop().time() - started
                assert taken.status_code == 200, taken.text
                assert 0.5 < waited < 4.5  # after the lease lapsed, not after TURN_WAIT
                session = (await client.get(f"{b.url}/session/{sid}")).json()
        finally:
            a.kill()
            b.stop()
    assert user_turns(session) == ["on replica B"]
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]


async def test_a_cancel_from_another_replica_stops_the_turn(redis_url):
    """Two replicas on one Redis: the turn runs on the first, the cancel comes to the second."""
    import time
    from pathlib import Path

    from agent_session.main import create_app
    from agent_session.services import Overrides

    from .conftest import make_settings, running
    from .fakes.scripted_llm import ScriptedLLM

    tables = str(Path(__file__).parent / "agents" / "tables.yaml")

    async def slow(request) -> dict:
        await asyncio.sleep(60)
        return {}

    settings = make_settings(agent_file=tables, agent_strategy="form", session_store=redis_url,
                             turn_timeout_seconds=120, llm_timeout_seconds=120)
    first = create_app(settings, Overrides(llm=ScriptedLLM([{"guests": "two"}, slow])))
    second = create_app(settings, Overrides(llm=ScriptedLLM()))
    async with running(first) as one, running(second) as two:
        assert (await one.post("/chat", json={"session_id": "x-rep",
                                              "query": "two of us"})).status_code == 200
        started = time.monotonic()
        turn = asyncio.create_task(one.post("/chat", json={  # words the model has to read
            "session_id": "x-rep", "query": "tomorrow would suit us best"}))
        for _ in range(200):
            if (await two.post("/session/x-rep/cancel")).json()["cancelled"]:
                break
            await asyncio.sleep(0.02)
        stopped = await turn
        assert stopped.status_code == 409 and time.monotonic() - started < 10
        users = [m for m in (await two.get("/session/x-rep")).json()["messages"]
                 if m["role"] == "user"]
        assert [m["content"] for m in users] == ["two of us"]
