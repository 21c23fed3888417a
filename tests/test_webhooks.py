"""Webhooks end to end: a booking completed, a hand-off and an expiry reach a local receiver,
signed (checked with the `standardwebhooks` verifier), at least once, in order, through a
receiver that fails and one that is down for a while; a wrong secret fails verification; the
service refuses to start with half the settings or a malformed secret. The crash tests are in
`test_webhooks_crash.py`."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from agent_session.config import Settings
from agent_session.delivery.sender import backoff
from agent_session.errors import ConfigurationError
from agent_session.main import create_app

from .conftest import make_settings, running
from .fakes.server import free_port, serve
from .fakes.webhook_receiver import WebhookReceiver

AGENT = str(Path(__file__).parent / "agents" / "tables.yaml")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


async def until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def book(h, session_id: str = "w1", user_id: str = "u7") -> dict:
    """A table booked in five turns (the last two need no model call)."""
    h.llm.extend([{"guests": "two", "date": "tomorrow", "time": "8 pm"},
                  {"name": "Asha Rao"}])
    for query in ("a table for two tomorrow at 8 pm", "Asha Rao", "inside", "yes"):
        response = await h.chat(query, session_id=session_id, user_id=user_id)
        assert response.status_code == 200, response.text
    return response.json()


async def test_a_completed_booking_and_a_hand_off_arrive_signed_in_order(harness_factory):
    receiver = WebhookReceiver(fail_first=2)
    with serve(receiver.app()) as url:
        async with harness_factory(agent_file=AGENT, agent_strategy="form",
                                   webhook_url=f"{url}/hook", webhook_secret=SECRET) as h:
            done = await book(h)
            assert done["outcome"] == "final"
            handoff = await h.chat("can I talk to a human?", session_id="w1", user_id="u7")
            assert handoff.json()["outcome"] == "handoff"
            await until(lambda: len(receiver.delivered(SECRET)) == 2)
            metrics = (await h.client.get("/metrics")).text
    events = receiver.delivered(SECRET)
    assert [e["type"] for e in events] == ["session.completed", "session.handoff"]
    assert events[0]["data"] == {"session_id": "w1", "agent": "tables", "user_id": "u7",
                                 "result": done["final_response"]}
    assert events[1]["data"]["session_id"] == "w1"
    # The first event failed twice: three attempts, one id; the hand-off waited for it.
    ids = receiver.ids()
    assert ids[:3] == [events[0]["id"]] * 3 and ids[3] == events[1]["id"]
    headers = receiver.attempts[-1][0]
    assert headers["webhook-signature"].startswith("v1,") and headers["webhook-timestamp"]
    with pytest.raises(WebhookVerificationError):  # a receiver holding another secret
        Webhook(OTHER_SECRET).verify(receiver.attempts[-1][1], headers)
    assert 'agent_webhook_deliveries_total{result="delivered"} 2.0' in metrics
    assert 'agent_webhook_deliveries_total{result="failed"} 2.0' in metrics
    assert 'agent_webhook_deliveries_total{result="retried"} 2.0' in metrics


async def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_back(harness_factory):
    receiver = WebhookReceiver()
    port = free_port()  # nobody listens there yet
    async with harness_factory(agent_file=AGENT, agent_strategy="form",
                               webhook_url=f"http://127.0.0.1:{port}/hook",
                               webhook_secret=SECRET) as h:
        await book(h, "d1")
        handoff = await h.chat("I want to speak to a person", session_id="d2")
        assert handoff.json()["outcome"] == "handoff"
        for _ in range(200):  # attempts fail (connection refused); the gauges say so
            metrics = (await h.client.get("/metrics")).text
            if "agent_webhook_pending_events 2.0" in metrics:
                break
            await asyncio.sleep(0.05)
        assert 'agent_webhook_deliveries_total{result="failed"}' in metrics
        assert "agent_webhook_pending_events 2.0" in metrics
        oldest = float(re.search(r"^agent_webhook_oldest_pending_seconds (\S+)$", metrics,
                                 re.M).group(1))
        assert oldest > 0
        with serve(receiver.app(), port=port):
            await until(lambda: len(receiver.delivered(SECRET)) == 2, 40)
    got = {e["data"]["session_id"]: e["type"] for e in receiver.delivered(SECRET)}
    assert got == {"d1": "session.completed", "d2": "session.handoff"}


async def test_an_expired_session_is_reported_by_the_sweep(harness_factory):
    receiver = WebhookReceiver()
    with serve(receiver.app()) as url:
        async with harness_factory(agent_file=AGENT, agent_strategy="form",
                                   webhook_url=f"{url}/hook", webhook_secret=SECRET,
                                   session_ttl_seconds=30, turn_timeout_seconds=5) as h:
            h.llm.extend([{"guests": "four"}])
            assert (await h.chat("a table for four", "e1", "u2")).status_code == 200
            h.clock.advance(31)
            assert await h.services.manager.sweep_once() == 1
            await until(lambda: len(receiver.delivered(SECRET)) == 1)
    [expired] = receiver.delivered(SECRET)
    assert expired["type"] == "session.expired"
    assert expired["data"] == {"session_id": "e1", "agent": "tables", "user_id": "u2",
                               "result": None}


async def test_without_webhooks_nothing_is_kept_for_delivery(harness_factory):
    async with harness_factory(agent_file=AGENT, agent_strategy="form") as h:
        await book(h)
        assert await h.services.store.outbox_backlog() == (0, None)
        assert h.services.webhooks is None


def test_half_the_settings_or_a_malformed_secret_refuse_to_start():
    with pytest.raises(ValueError, match="WEBHOOK_URL and WEBHOOK_SECRET"):
        Settings(_env_file=None, webhook_url="http://127.0.0.1:9/hook")
    app = create_app(make_settings(webhook_url="http://127.0.0.1:9/hook",
                                   webhook_secret="not-base64!"))

    async def start() -> None:
        async with running(app):
            pass

    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET"):
        asyncio.run(start())


def test_back_off_doubles_with_jitter_from_within_two_seconds_to_thirty():
    firsts = [backoff(1) for _ in range(200)]
    assert all(0.5 <= d <= 1.0 for d in firsts)
    assert all(1.0 <= backoff(2) <= 2.0 for _ in range(50))
    assert all(15.0 <= backoff(n) <= 30.0 for n in (6, 10, 40) for _ in range(50))
    assert len(set(firsts)) > 100  # jittered, so senders do not retry in step
