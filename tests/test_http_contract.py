"""Every 4xx of the contract that does not need a model: validation, auth, sizes, unknowns."""

from __future__ import annotations

import pytest

from .fakes.scripted_llm import call

ASK = [call("prompt_user", question="Where from?")]


@pytest.mark.parametrize("body", [
    {}, {"query": ""}, {"query": "x" * 4001}, {"query": 5}, {"query": "hi", "session_id": ""},
    {"query": "hi", "session_id": "../../etc/passwd"}, {"query": "hi", "user_id": "a b"},
    [], "not json",
])
async def test_malformed_chat_is_422(harness, body):
    if isinstance(body, str):
        response = await harness.client.post("/chat", content=body,
                                              headers={"content-type": "application/json"})
    else:
        response = await harness.client.post("/chat", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert harness.llm.requests == []


async def test_query_of_4000_chars_is_accepted(harness):
    harness.llm.extend([ASK])
    assert (await harness.chat("x" * 4000)).status_code == 200


async def test_unknown_session_is_404_on_get_and_delete(harness):
    assert (await harness.client.get("/session/nope")).status_code == 404
    assert (await harness.client.delete("/session/nope")).status_code == 404
    assert (await harness.client.get("/session/bad id!")).status_code == 422


async def test_api_keys_guard_every_route_but_health(harness_factory):
    async with harness_factory(api_keys="k-one,k-two") as h:
        h.llm.extend([ASK, ASK])
        assert (await h.client.get("/health")).status_code == 200
        for method, path in [("POST", "/chat"), ("GET", "/session/x"), ("DELETE", "/session/x"),
                             ("GET", "/sessions"), ("GET", "/openapi-3.0.json")]:
            response = await h.client.request(method, path, json={"query": "hi"})
            assert response.status_code == 401, path
            assert "API key is required" in response.json()["detail"]
        # /ready is open to probes, but tells which backend failed only to a key holder.
        assert (await h.client.get("/ready")).json() == {"status": "ready"}
        keyed = await h.client.get("/ready", headers={"X-API-Key": "k-one"})
        assert keyed.json()["checks"]["session_store"] == "ok"
        wrong = await h.client.post("/chat", json={"query": "hi"}, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "The API key is not valid."}
        ok = await h.client.post("/chat", json={"query": "hi"}, headers={"X-API-Key": "k-two"})
        assert ok.status_code == 200
        bearer = await h.client.post("/chat", json={"query": "hi"},
                                     headers={"Authorization": "Bearer k-one"})
        assert bearer.status_code == 200


async def test_oversized_body_is_413(harness_factory):
    async with harness_factory(max_upload_bytes=1000) as h:
        response = await h.client.post("/chat", json={"query": "x" * 2000})
        assert response.status_code == 413
        assert "larger than 1000 bytes" in response.json()["detail"]

        async def chunks():
            for _ in range(4):
                yield b"x" * 400

        streamed = await h.client.post("/chat", content=chunks(),
                                       headers={"content-type": "application/json"})
        assert streamed.status_code == 413


async def test_request_id_is_echoed(harness):
    response = await harness.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len((await harness.client.get("/health")).headers["x-request-id"]) == 32
