"""A real service process: the whole turn's deadline (TURN_TIMEOUT_SECONDS) and a graceful stop
on SIGTERM (in-flight turns finish and are saved, new ones are refused, exit 0)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from .fakes.openai_server import FakeOpenAI
from .fakes.server import serve
from .fakes.watsonx import tool_calls
from .service_process import ServiceProcess

ASK = tool_calls(("prompt_user", {"question": "Where should the cab pick you up from?"}))


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, dict[str, str]]]:
    fake = FakeOpenAI(api_key="sk-fake", default=ASK)
    with serve(fake.app()) as url:
        yield fake, {"LLM_BACKEND": "openai", "OPENAI_BASE_URL": f"{url}/v1",
                     "OPENAI_API_KEY": "sk-fake", "OPENAI_MODEL": "test-model",
                     "AGENT_STRATEGY": "react", "PLACES_BACKEND": "offline"}


def test_a_turn_past_its_deadline_is_504_and_changes_nothing(model, tmp_path):
    """Each model call (0.6 s) is within LLM_TIMEOUT_SECONDS; the three steps together are not
    within TURN_TIMEOUT_SECONDS."""
    fake, env = model
    service = ServiceProcess(**env, TURN_TIMEOUT_SECONDS="1.5", LLM_TIMEOUT_SECONDS="1",
                             SESSION_STORE=f"sqlite:///{tmp_path}/s.db").start()
    try:
        first = httpx.post(f"{service.url}/chat", json={"session_id": "late", "query": "hi"},
                           timeout=10)
        assert first.status_code == 200 and first.json()["status_code"] == "201"
        before = httpx.get(f"{service.url}/session/late").json()

        fake.delay = 0.6
        fake.script(tool_calls(("search_places", {"text_query": "MG Road"})),
                    tool_calls(("search_places", {"text_query": "Koramangala"})), ASK)
        started = time.monotonic()
        late = httpx.post(f"{service.url}/chat", json={"session_id": "late",
                                                       "query": "MG Road to Koramangala"},
                          timeout=10)
        assert late.status_code == 504
        assert "1.5 s" in late.json()["detail"] and "nothing was saved" in late.json()["detail"]
        assert time.monotonic() - started < 2.5
        assert httpx.get(f"{service.url}/session/late").json() == before
    finally:
        service.stop()


def test_sigterm_lets_the_turn_in_flight_finish_and_refuses_new_ones(model, tmp_path):
    fake, env = model
    fake.delay = 2.0
    env = {**env, "SESSION_STORE": f"sqlite:///{tmp_path}/s.db", "SHUTDOWN_GRACE_SECONDS": "10"}
    service = ServiceProcess(**env).start()
    answers: list[httpx.Response] = []
    in_flight = threading.Thread(target=lambda: answers.append(httpx.post(
        f"{service.url}/chat", json={"session_id": "draining", "query": "book me a cab"},
        timeout=20)))
    in_flight.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:  # the turn is in its model call
        time.sleep(0.02)
    assert fake.requests
    service.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)

    try:  # a new turn after the signal: refused (connection refused, or 503 if it got in)
        late = httpx.post(f"{service.url}/chat", json={"query": "another"}, timeout=5)
        assert late.status_code == 503, late.text
    except httpx.ConnectError:
        pass
    in_flight.join(timeout=20)
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert answers[0].json()["status_code"] == "201"
    assert service.process.wait(timeout=15) == 0, service.logs()

    restarted = ServiceProcess(**env).start()
    try:
        stored = httpx.get(f"{restarted.url}/session/draining").json()
        assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == [
            "book me a cab"]
        assert stored["messages"][-1]["content"] == "Where should the cab pick you up from?"
    finally:
        restarted.stop()


async def test_after_the_stop_signal_turns_are_503_and_not_ready(harness):
    harness.services.manager.stop_taking_turns()
    refused = await harness.chat("hi")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "shutting down" in refused.json()["detail"]
    ready = await harness.client.get("/ready")
    assert ready.status_code == 503 and "shutting down" in ready.json()["checks"]["agent"]
