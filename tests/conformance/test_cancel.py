"""Cancel on every store: a turn waiting on a slow model stops at once when the cancel route
asks (from this replica or, on a shared store, another), answers 409, and leaves the session
as it was; the next turn runs at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from agent_session.main import create_app
from agent_session.services import Overrides

from ..conftest import make_settings, running
from ..fakes.scripted_llm import ScriptedLLM

TABLES = str(Path(__file__).resolve().parents[1] / "agents" / "tables.yaml")
SLOW_MODEL_SECONDS = 60  # what the cancelled turn would have waited


async def slow(request) -> dict:
    await asyncio.sleep(SLOW_MODEL_SECONDS)
    return {"guests": "two"}


async def cancel_when_running(client, session_id: str) -> dict:
    for _ in range(200):
        answer = (await client.post(f"/session/{session_id}/cancel")).json() \
            if (await client.get(f"/session/{session_id}")).status_code == 200 else None
        if answer and answer["cancelled"]:
            return answer
        await asyncio.sleep(0.02)
    raise AssertionError("the turn never showed as running")


async def test_cancel_a_turn_waiting_on_a_slow_model(store, clock):
    llm = ScriptedLLM([{"guests": "four"}])
    app = create_app(make_settings(agent_file=TABLES, agent_strategy="form",
                                   turn_timeout_seconds=SLOW_MODEL_SECONDS * 2,
                                   llm_timeout_seconds=SLOW_MODEL_SECONDS * 2),
                     Overrides(llm=llm, store=store, clock=clock))
    async with running(app) as client:
        first = await client.post("/chat", json={"session_id": "c1", "query": "four of us"})
        assert first.json()["asking"] == "date"
        before = (await client.get("/session/c1")).json()
        llm.extend([slow])
        started = time.monotonic()
        turn = asyncio.create_task(client.post("/chat", json={  # words the model has to read
            "session_id": "c1", "query": "tomorrow would suit us best"}))
        assert (await cancel_when_running(client, "c1")) == {"cancelled": True}
        stopped = await turn
        took = time.monotonic() - started
        assert stopped.status_code == 409 and "cancelled" in stopped.json()["detail"]
        assert took < SLOW_MODEL_SECONDS / 10  # stopped, not waited out
        assert (await client.get("/session/c1")).json() == before  # as before that turn
        llm.extend([{"date": "tomorrow"}])
        after = await client.post("/chat", json={"session_id": "c1",
                                                  "query": "tomorrow would suit us best"})
        assert after.status_code == 200 and after.json()["asking"] == "time"  # at once
        assert (await client.post("/session/c1/cancel")).json() == {"cancelled": False}
        assert (await client.post("/session/nope/cancel")).status_code == 404
        metrics = (await client.get("/metrics")).text
        assert 'agent_turns_total{outcome="stopped"} 1.0' in metrics
