"""`LLM_BACKEND=openai` (plain JSON over pyreqwest) against a fake OpenAI-compatible server
over HTTPS (certificate made by the tests): both strategies, faults, the pool."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from agent_session.events import UserMessage
from agent_session.llm.factory import build_llm_client
from agent_session.main import create_app

from .conftest import make_settings, running
from .fakes.openai_server import FakeOpenAI, error, json_answer
from .fakes.server import serve
from .fakes.watsonx import text, tool_calls

KEY = "sk-test-secret-key-456"


@pytest.fixture(scope="module")
def fake_server(tls) -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(api_key=KEY)
    with serve(fake.app(), *tls) as url:
        yield fake, url


@pytest.fixture
def fake(fake_server) -> FakeOpenAI:
    server, _ = fake_server
    server.answers.clear()
    server.requests.clear()
    server.headers.clear()
    server.delay = 0.0
    server.api_key = KEY
    return server


def settings(url: str, cert, **overrides):
    values = {"llm_backend": "openai", "openai_base_url": f"{url}/v1",
              "openai_api_key": KEY, "openai_model": "test-model",
              "openai_verify": str(cert), "openai_max_retries": 1, "llm_timeout_seconds": 5}
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
def app_factory(fake_server, tls):
    _, url = fake_server
    return lambda **overrides: create_app(settings(url, tls[0], **overrides))


async def test_auto_picks_openai_when_a_base_url_is_set(fake_server, tls):
    _, url = fake_server
    llm = build_llm_client(settings(url, tls[0], llm_backend="auto"))
    assert llm.name == "openai"
    await llm.close()
    assert build_llm_client(settings(url, tls[0], llm_backend="auto",
                                     wx_api_key="k", wx_url=url)).name == "watsonx"


async def test_react_booking_over_tool_calls(app_factory, fake):
    fake.script(
        tool_calls(("search_places", {"text_query": "MG Road"}),
                   ("search_places", {"text_query": "Koramangala"})),
        tool_calls(("get_booking_date", {"user_input": "tomorrow at 9am"})),
        tool_calls(("final_answer", {"pickup_location": "MG Road, Bengaluru, India",
                                     "destination": "Koramangala, Bengaluru, India",
                                     "date": "2026-12-02", "time": "09:00",
                                     "preferences": "sedan"})))
    async with running(app_factory(agent_strategy="react")) as client:
        response = await client.post("/chat", json={
            "query": "cab from MG Road to Koramangala tomorrow at 9am, sedan", "user_id": "12345"})
    body = response.json()
    assert body["status_code"] == "200", body
    assert body["final_response"]["time"] == "09:00"
    first = fake.requests[0]
    assert first["model"] == "test-model" and first["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in first["tools"]][:3] == [
        "search_places", "get_booking_date", "get_user_address"]
    # The observations went back as tool messages answering the calls.
    third = fake.requests[2]["messages"]
    assert [m["role"] for m in third[-3:]] == ["tool", "assistant", "tool"]
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"


async def test_form_extraction_goes_as_a_json_schema(app_factory, fake):
    fake.script(json_answer({"pickup_location": "MG Road"}), error(503, "busy"),
                json_answer({"destination": "Koramangala"}))
    async with running(app_factory(agent_strategy="form")) as client:
        body = (await client.post("/chat", json={"query": "cab from MG Road",
                                                 "session_id": "j1"})).json()
        assert body["query"] == "Where are you going?"
        again = (await client.post("/chat", json={"query": "to Koramangala",
                                                  "session_id": "j1"})).json()
    assert again["query"] == "What day do you need the cab?"
    sent = [r["response_format"] for r in fake.requests]
    assert [s["type"] for s in sent] == ["json_schema"] * 3  # known good: a 503 is retried
    assert set(sent[0]["json_schema"]["schema"]["properties"]) >= {"pickup_location", "time"}


async def test_a_server_refusing_json_schema_gets_json_object_with_the_schema(app_factory, fake):
    """llama-cpp-python's server: `json_schema` fails its validation (answered as a 500)."""
    fake.script(error(500, "Input should be 'text' or 'json_object'"),
                json_answer({"pickup_location": "MG Road"}), json_answer({}))
    async with running(app_factory(agent_strategy="form")) as client:
        for query in ("cab from MG Road", "hello"):
            body = (await client.post("/chat", json={"query": query, "session_id": "j2"})).json()
            assert body["query"] == "Where are you going?"
    sent = [r["response_format"] for r in fake.requests]
    assert [s["type"] for s in sent] == ["json_schema", "json_object", "json_object"]
    assert sent[1]["schema"]["properties"]["pickup_location"] == {"type": "string"}


async def test_text_where_a_call_was_due_becomes_an_observation(app_factory, fake):
    fake.script(text("I think you want a cab."),
                tool_calls(("prompt_user", {"question": "Where from?"})))
    async with running(app_factory(agent_strategy="react")) as client:
        body = (await client.post("/chat", json={"query": "cab", "session_id": "t1"})).json()
        assert body["query"] == "Where from?"
        stored = (await client.get("/session/t1")).json()["messages"]
    assert stored[1]["name"] == "invalid_action"
    assert "Reply with an action call" in stored[1]["observation"]["error"]


async def test_a_json_action_in_the_text_is_taken(app_factory, fake):
    """Servers without tool parsing (llama.cpp without --jinja) answer the call as text."""
    fake.script(text(json.dumps({"name": "prompt_user",
                                 "arguments": {"question": "Where to?"}})))
    async with running(app_factory(agent_strategy="react")) as client:
        body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["query"] == "Where to?"


async def test_broken_json_arguments_become_an_observation(app_factory, fake):
    fake.script(tool_calls(("search_places", '{"text_query": "MG Ro')),
                tool_calls(("prompt_user", {"question": "Which place?"})))
    async with running(app_factory(agent_strategy="react")) as client:
        body = (await client.post("/chat", json={"query": "cab", "session_id": "b1"})).json()
        assert body["query"] == "Which place?"
        stored = (await client.get("/session/b1")).json()["messages"]
    assert "not valid JSON" in stored[1]["observation"]["error"]


async def assert_unchanged_failure(client, status: int, detail: str, then=None) -> None:
    first = (await client.post("/chat", json={"query": "hi", "session_id": "s1"}))
    assert first.status_code == 200
    if then is not None:
        then()
    before = (await client.get("/session/s1")).json()
    response = await client.post("/chat", json={"query": "cab", "session_id": "s1"})
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert (await client.get("/session/s1")).json() == before


async def test_401_is_503_and_ready_names_it(app_factory, fake):
    fake.script(tool_calls(("prompt_user", {"question": "Where from?"})))
    async with running(app_factory(agent_strategy="react")) as client:
        assert (await client.get("/ready")).status_code == 200
        await assert_unchanged_failure(client, 503, "rejected the credentials",
                                       then=lambda: setattr(fake, "api_key", "another-key"))
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert "OPENAI_API_KEY" in ready.json()["checks"]["llm"]
        assert KEY not in ready.text


async def test_429_then_success_is_retried(app_factory, fake):
    fake.script(error(429, "slow down"), tool_calls(("prompt_user", {"question": "From?"})))
    async with running(app_factory(agent_strategy="react")) as client:
        body = (await client.post("/chat", json={"query": "cab"})).json()
    assert body["query"] == "From?" and len(fake.requests) == 2


async def test_503_persisting_is_503(app_factory, fake):
    fake.script(tool_calls(("prompt_user", {"question": "Where from?"})),
                *[error(503, "overloaded")] * 3)
    async with running(app_factory(agent_strategy="react")) as client:
        await assert_unchanged_failure(client, 503, "unavailable (HTTP 503)")
    assert len(fake.requests) == 3  # one call, one retry (OPENAI_MAX_RETRIES=1)


async def test_a_slow_server_past_the_deadline_is_504(app_factory, fake):
    async def slow(body):
        await asyncio.sleep(3)
        return tool_calls(("prompt_user", {"question": "late"}))

    fake.script(tool_calls(("prompt_user", {"question": "Where from?"})), slow, slow)
    async with running(app_factory(agent_strategy="react", llm_timeout_seconds=1,
                                   openai_max_retries=0)) as client:
        await assert_unchanged_failure(client, 504, "did not answer")


async def test_an_unparseable_answer_is_502(app_factory, fake):
    from starlette.responses import Response

    fake.script(tool_calls(("prompt_user", {"question": "Where from?"})),
                Response("not json at all", media_type="application/json"))
    async with running(app_factory(agent_strategy="react")) as client:
        await assert_unchanged_failure(client, 502, "not a chat completion")


async def test_an_unparseable_extraction_is_502(app_factory, fake):
    fake.script(json_answer({}), text("no JSON here"))
    async with running(app_factory(agent_strategy="form")) as client:
        await assert_unchanged_failure(client, 502, "not JSON")


async def test_many_calls_in_flight_and_a_cancelled_call_frees_its_slot(fake_server, tls, fake):
    _, url = fake_server
    fake.default = tool_calls(("prompt_user", {"question": "ok"}))
    fake.delay = 0.5
    from agent_session.llm.base import LLMRequest
    from agent_session.llm.openai_chat import OpenAILLM

    llm = OpenAILLM(base_url=f"{url}/v1", model="test-model", api_key=KEY, verify=str(tls[0]),
                    max_connections=1, timeout=5)
    request = LLMRequest("system", [UserMessage(content="hi")], [])
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await llm.complete(request)
        started = asyncio.get_running_loop().time()
        await llm.complete(request)  # the one slot is free at once, not after the 0.5 s
        assert asyncio.get_running_loop().time() - started < 0.9
        wide = OpenAILLM(base_url=f"{url}/v1", model="test-model", api_key=KEY,
                         verify=str(tls[0]), timeout=5)
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(wide.complete(request) for _ in range(32)))
        assert asyncio.get_running_loop().time() - started < 2.5  # in flight together
        await wide.close()
    finally:
        fake.default = None
        await llm.close()
