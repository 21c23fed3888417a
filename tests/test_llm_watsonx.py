"""The watsonx backend through the real `ibm-watsonx-ai` SDK against a fake watsonx served over
HTTPS on 127.0.0.1 (certificate made by the tests), end to end through `/chat`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.responses import JSONResponse

from agent_session.main import create_app

from .conftest import make_settings, running
from .fakes.server import serve
from .fakes.watsonx import FakeWatsonx, text, tool_calls

KEY = "wx-secret-api-key-123"


@pytest.fixture(scope="module")
def fake_server(tls) -> Iterator[tuple[FakeWatsonx, str]]:
    fake = FakeWatsonx(api_key=KEY)
    with serve(fake.app(), *tls) as url:
        yield fake, url


@pytest.fixture
def fake(fake_server) -> FakeWatsonx:
    wx, _ = fake_server
    wx.answers.clear()
    wx.requests.clear()
    wx.chat_delay = 0.0
    return wx


def wx_settings(url: str, cert, **overrides):
    values = {"llm_backend": "watsonx", "wx_api_key": KEY, "wx_url": url,
              "wx_auth_url": f"{url}/identity/token", "wx_project_id": "proj-1",
              "wx_verify": str(cert), "llm_timeout_seconds": 10}
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
def client_factory(fake_server, tls):
    _, url = fake_server

    def factory(**overrides):
        app = create_app(wx_settings(url, tls[0], **overrides))
        return running(app)

    return factory


@pytest.fixture
async def client(client_factory) -> AsyncIterator:
    async with client_factory() as c:
        yield c


def tool_results(body: dict) -> list[dict]:
    return [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]


async def test_whole_booking_over_tool_calls(client, fake):
    def finish(body):
        results = tool_results(body)
        assert results[0]["places"][0]["name"] == "MG Road"
        assert results[1]["places"][0]["name"] == "Koramangala"
        date = results[2]
        return tool_calls(("final_answer", {
            "pickup_location": results[0]["places"][0]["address"],
            "destination": results[1]["places"][0]["address"],
            "date": date["date"], "time": "09:00", "preferences": "sedan"}))

    fake.script(
        tool_calls(("search_places", {"text_query": "MG Road"}),
                   ("search_places", {"text_query": "Koramangala"})),
        tool_calls(("get_booking_date", {"user_input": "tomorrow"})),
        tool_calls(("prompt_user", {"question": "What time should the cab come?"})),
        tool_calls(("get_booking_date", {"user_input": "tomorrow at 9am"})),
        finish,
    )
    first = (await client.post("/chat", json={
        "query": "Cab from MG Road to Koramangala tomorrow, sedan", "user_id": "12345",
        "session_id": "wx-1"})).json()
    assert first["status_code"] == "201" and first["query"] == "What time should the cab come?"
    second = (await client.post("/chat", json={"query": "9am", "user_id": "12345",
                                               "session_id": "wx-1"})).json()
    assert second["status_code"] == "200"
    assert second["final_response"]["pickup_location"] == "MG Road, Bengaluru, India"
    assert second["final_response"]["time"] == "09:00"
    chat = fake.chats[-1]["body"]
    assert chat["project_id"] == "proj-1" and chat["model_id"] == "mistralai/mistral-large"
    assert [t["function"]["name"] for t in chat["tools"]] == [
        "search_places", "get_booking_date", "get_user_address", "prompt_user", "final_answer"]
    # Earlier steps come back as assistant tool_calls paired with tool results.
    roles = [m["role"] for m in chat["messages"]]
    assert roles[:2] == ["system", "user"] and "tool" in roles
    paired = [m for m in chat["messages"] if m.get("tool_calls")]
    assert paired and all(m["tool_calls"][0]["id"] for m in paired)
    assert len(fake.chats) == 5


async def test_json_tool_mode(client_factory, fake):
    fake.script(text(json.dumps({"name": "prompt_user",
                                 "arguments": {"question": "Where from?"}})))
    async with client_factory(wx_tool_mode="json") as client:
        body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["status_code"] == "201" and body["query"] == "Where from?"
    sent = fake.chats[0]["body"]
    assert sent["response_format"] == {"type": "json_object"} and "tools" not in sent
    assert '"name": "<action name>"' in sent["messages"][0]["content"]


async def test_bad_credentials_at_start_keep_the_service_up(client_factory, fake):
    async with client_factory(wx_api_key="wrong-key") as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert "rejected the credentials" in ready.json()["checks"]["llm"]
        chat = await client.post("/chat", json={"query": "cab"})
        assert chat.status_code == 503
        assert "rejected the credentials" in chat.json()["detail"]
        assert "wrong-key" not in chat.text and "wrong-key" not in ready.text
    assert fake.chats == []


@pytest.mark.parametrize("status, detail", [(429, "rate limiting"), (503, "unavailable")])
async def test_rate_limit_and_outage_are_503_with_bounded_retries(client_factory, fake, status,
                                                                  detail):
    async with client_factory(wx_max_retries=1) as client:
        await client.get("/ready")  # set-up done, so only chat calls are counted
        fake.script(*[JSONResponse({"errors": [{"code": "x"}]}, status_code=status)] * 5)
        response = await client.post("/chat", json={"query": "cab", "session_id": f"rl{status}"})
        assert response.status_code == 503
        assert detail in response.json()["detail"]
        assert len(fake.chats) == 2  # one call and WX_MAX_RETRIES=1 retry, no second layer
        assert (await client.get(f"/session/rl{status}")).status_code == 404


async def test_server_error_is_502(client, fake):
    fake.script(JSONResponse({"errors": [{"code": "bad"}]}, status_code=400))
    response = await client.post("/chat", json={"query": "cab"})
    assert response.status_code == 502 and "HTTP 400" in response.json()["detail"]


async def test_timeout_is_504_and_session_unchanged(client_factory, fake):
    async with client_factory(llm_timeout_seconds=0.5) as client:
        await client.get("/ready")
        fake.chat_delay = 3
        response = await client.post("/chat", json={"query": "cab", "session_id": "slow-1"})
        assert response.status_code == 504
        assert (await client.get("/session/slow-1")).status_code == 404


async def test_malformed_and_unknown_tool_calls_are_corrected(client, fake):
    seen = []

    def after(body):
        seen.append(tool_results(body)[-1])
        return tool_calls(("prompt_user", {"question": "Where from?"})) if len(seen) == 2 \
            else tool_calls(("launch_rockets", {"count": 3}))

    fake.script(tool_calls(("search_places", '{"text_query": "MG Road"')), after, after)
    body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["status_code"] == "201"
    assert "not valid JSON" in seen[0]["error"]
    assert "no action named 'launch_rockets'" in seen[1]["error"]


async def test_text_without_tool_call_is_corrected(client, fake):
    fake.script(text("Sure, where would you like to go?"),
                tool_calls(("prompt_user", {"question": "Where to?"})))
    body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["query"] == "Where to?"
    corrective = fake.chats[1]["body"]["messages"][-1]
    assert corrective["role"] == "user" and "not text" in corrective["content"]


async def test_injection_in_tool_arguments_runs_nothing(client, fake, tmp_path):
    marker = tmp_path / "owned"
    payload = f"__import__('os').system('touch {marker}')"
    fake.script(tool_calls(("search_places", payload)),
                tool_calls(("get_booking_date", {"user_input": payload})),
                tool_calls(("prompt_user", {"question": "Where from?"})))
    body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["status_code"] == "201"
    assert not marker.exists()
    results = tool_results(fake.chats[-1]["body"])
    assert "not valid JSON" in results[0]["error"]
    assert "No date or time" in results[1]["error"]


async def test_concurrent_sessions_are_not_capped_at_ten_connections(client, fake):
    await client.get("/ready")
    fake.chat_delay, fake.peak_in_flight = 0.5, 0
    fake.script(*[tool_calls(("prompt_user", {"question": "Where from?"}))] * 24)
    results = await asyncio.gather(*(client.post("/chat", json={
        "query": "cab", "session_id": f"c{i}"}) for i in range(24)))
    assert all(r.status_code == 200 for r in results)
    # The SDK's own pool of 10 would hold the fake at 10 concurrent calls.
    assert fake.peak_in_flight >= 24


async def test_settings_the_sdk_would_misuse_are_refused(client_factory, fake_server, tls):
    _, url = fake_server
    async with client_factory(wx_url=url.replace("https", "http")) as client:
        response = await client.post("/chat", json={"query": "cab"})
        assert response.status_code == 503 and "https" in response.json()["detail"]
    async with client_factory(wx_auth_url=None) as client:
        response = await client.post("/chat", json={"query": "cab"})
        assert response.status_code == 503 and "WX_AUTH_URL" in response.json()["detail"]


async def test_garbage_answer_is_502_and_session_unchanged(client, fake):
    from starlette.responses import Response

    fake.script(Response("<html>definitely not json</html>", media_type="text/html"))
    response = await client.post("/chat", json={"query": "cab", "session_id": "garbage-1"})
    assert response.status_code == 502, response.text
    assert "watsonx.ai" in response.json()["detail"]
    assert (await client.get("/session/garbage-1")).status_code == 404


async def test_watsonx_gone_after_set_up_is_503_and_session_unchanged(tls):
    """A refused connection says unreachable (503), not timed out (504)."""
    server = serve(FakeWatsonx(api_key=KEY).app(), *tls)
    url = server.__enter__()
    async with running(create_app(wx_settings(url, tls[0]))) as client:
        try:
            assert (await client.get("/ready")).status_code == 200
        finally:
            await asyncio.to_thread(server.__exit__, None, None, None)
        response = await client.post("/chat", json={"query": "cab", "session_id": "gone-1"})
        assert response.status_code == 503, response.text
        assert "unreachable" in response.json()["detail"]
        assert (await client.get("/session/gone-1")).status_code == 404
