"""No webhook event is lost when the service is SIGKILLed between the turn that caused it and its
delivery: the event was written with the turn (sqlite, Redis), so the restarted process (sqlite)
or the other replica (Redis) delivers it, under the same `webhook-id`. Real service processes,
a receiver that is down while the first process lives."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .fakes.server import free_port, serve
from .fakes.webhook_receiver import WebhookReceiver
from .redis_server import flush
from .service_process import ServiceProcess

AGENT = str(Path(__file__).parent / "agents" / "tables.yaml")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def hand_off(service: ServiceProcess, session_id: str) -> None:
    response = httpx.post(f"{service.url}/chat", timeout=30, json={
        "query": "can I talk to a human?", "session_id": session_id, "user_id": "caller"})
    assert response.status_code == 200 and response.json()["outcome"] == "handoff"


def wait_for(receiver: WebhookReceiver, count: int, seconds: float = 45) -> list[dict]:
    deadline = time.monotonic() + seconds
    while len(receiver.delivered(SECRET)) < count:
        assert time.monotonic() < deadline, receiver.attempts
        time.sleep(0.1)
    return receiver.delivered(SECRET)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_an_event_survives_a_sigkill_before_its_delivery(kind, tmp_path, request):
    if kind == "sqlite":
        store = f"sqlite:///{tmp_path / 'sessions.db'}"
    else:
        store = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/13"
        asyncio.run(flush(store))
    port = free_port()  # the receiver is down while the first process lives
    env = {"AGENTS": AGENT, "AGENT_STRATEGY": "form", "SESSION_STORE": store,
           "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "WEBHOOK_SECRET": SECRET}
    doomed = ServiceProcess(**env).start()
    other = ServiceProcess(**env).start() if kind == "redis" else None  # a replica
    session_id = f"kill-{uuid.uuid4().hex[:6]}"
    try:
        hand_off(doomed, session_id)
        doomed.kill()  # SIGKILL: no shutdown, no last attempt
        receiver = WebhookReceiver()
        with serve(receiver.app(), port=port):
            if other is None:  # one machine: the restarted process takes it up
                other = ServiceProcess(**env).start()
            events = wait_for(receiver, 1)
            time.sleep(1.5)  # anything sent twice would arrive by now
            events = receiver.delivered(SECRET)
    finally:
        doomed.kill()
        if other is not None:
            other.stop()
    assert {e["id"] for e in events} == {events[0]["id"]}  # duplicates only with one id
    assert events[0]["type"] == "session.handoff"
    assert events[0]["data"]["session_id"] == session_id
    assert events[0]["data"]["user_id"] == "caller"
