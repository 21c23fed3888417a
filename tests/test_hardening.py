"""Hardening: rate limits (per key or address, per user, shared through Redis), metrics,
secrets kept out of responses and logs."""

from __future__ import annotations

import logging

import pytest

from agent_session.main import create_app
from agent_session.services import Overrides

from .conftest import make_settings, running
from .fakes.scripted_llm import call

ASK = [call("prompt_user", question="Where from?")]


async def test_rate_limit_per_caller_with_retry_after(harness_factory):
    async with harness_factory(rate_limit="3/minute") as h:
        h.llm.extend([ASK] * 3)
        for _ in range(3):
            assert (await h.chat("cab")).status_code == 200
        limited = await h.chat("cab")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "limit is 3 per 1 minute" in limited.json()["detail"]
        assert (await h.client.get("/sessions")).status_code == 429
        assert (await h.client.get("/health")).status_code == 200  # liveness never limited


async def test_rate_limit_per_key_and_per_user(harness_factory):
    async with harness_factory(rate_limit="2/minute", api_keys="k1,k2,k3") as h:
        h.llm.extend([ASK] * 10)
        k1, k2, k3 = ({"X-API-Key": k} for k in ("k1", "k2", "k3"))
        assert (await h.chat("a", **k1)).status_code == 200
        assert (await h.chat("b", **k1)).status_code == 200
        assert (await h.chat("c", **k1)).status_code == 429  # k1 spent its budget
        # One user spread over several keys is still one user.
        assert (await h.chat("d", user_id="alice", **k2)).status_code == 200
        assert (await h.chat("e", user_id="alice", **k3)).status_code == 200
        limited = await h.chat("f", user_id="alice", **k2)  # k2 has budget; alice has not
        assert limited.status_code == 429 and "retry-after" in limited.headers
        assert (await h.chat("g", user_id="bob", **k3)).status_code == 200


@pytest.mark.parametrize("redis", ["redis_url", "redis_cluster_url"])
async def test_rate_limit_is_shared_across_replicas_on_redis(request, redis):
    url = request.getfixturevalue(redis)
    settings = make_settings(rate_limit="4/minute", session_store=url, llm_backend="echo")
    first, second = create_app(settings), create_app(settings)
    async with running(first) as a, running(second) as b:
        statuses = []
        for i in range(6):
            client = (a, b)[i % 2]
            statuses.append((await client.post("/chat", json={"query": f"q{i}"})).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_metrics(harness_factory):
    from agent_session.errors import LLMTimeout

    async with harness_factory() as h:
        h.llm.extend([[call("search_places", text_query="MG Road")], ASK, LLMTimeout("slow")])
        await h.chat("cab", session_id="m1")
        assert (await h.chat("again", session_id="m1")).status_code == 504
        response = await h.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert 'agent_turns_total{outcome="question"} 1.0' in text
        assert 'agent_turns_total{outcome="error"} 1.0' in text
        assert "agent_turn_steps_count 1.0" in text
        assert 'agent_llm_call_seconds_count{backend="scripted"} 2.0' in text
        assert 'agent_errors_total{kind="LLMTimeout"} 1.0' in text
        assert "agent_active_sessions 1.0" in text
        assert "agent_turns_in_progress 0.0" in text


async def test_metrics_need_the_api_key(harness_factory):
    async with harness_factory(api_keys="secret-key-1") as h:
        assert (await h.client.get("/metrics")).status_code == 401
        ok = await h.client.get("/metrics", headers={"Authorization": "Bearer secret-key-1"})
        assert ok.status_code == 200


async def test_secrets_stay_out_of_responses_and_logs(caplog, tmp_path):
    secrets = {"wx_api_key": "wx-SECRET-0001", "stt_api_key": "stt-SECRET-0002",
               "tts_api_key": "tts-SECRET-0003", "google_maps_api_key": "gm-SECRET-0004"}
    log_file = tmp_path / "app.log"
    app = create_app(make_settings(
        **secrets, api_keys="api-SECRET-0005", log_file=str(log_file), llm_backend="watsonx",
        wx_url="https://127.0.0.1:9", wx_auth_url="https://127.0.0.1:9/identity/token",
        stt_url="https://127.0.0.1:9", tts_url="https://127.0.0.1:9",
        llm_timeout_seconds=2), Overrides())
    headers = {"X-API-Key": "api-SECRET-0005"}
    bodies = []
    with caplog.at_level(logging.DEBUG):
        async with running(app) as client:
            bodies.append((await client.get("/ready", headers=headers)).text)
            bodies.append((await client.post("/chat", json={"query": "cab"},
                                             headers=headers)).text)
            bodies.append((await client.post("/synthesize/", json={"text": "hi"},
                                             headers=headers)).text)
            bodies.append((await client.get("/openapi.json")).text)
    everything = "\n".join(bodies) + log_file.read_text()
    for secret in [*secrets.values(), "api-SECRET-0005"]:
        assert secret not in everything
    assert "503" in everything or "unreachable" in everything
