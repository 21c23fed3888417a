"""The OpenAI chat protocol in front of the agents, played by real clients against a real
service process: the official `openai` SDK (plain and streamed), and Orchestrate's streamed
events as an external agent receives them. The service's own model is the fake OpenAI server,
scripted with the extractions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import openai
import pytest

from .fakes.openai_server import FakeOpenAI, json_answer
from .service_process import ServiceProcess, on_fake_model

KEY = "front-key"
FIRST = "I need a cab from MG Road to Koramangala tomorrow at 9am"
ALL_BUT_VEHICLE = {"pickup_location": "MG Road", "destination": "Koramangala",
                   "date": "tomorrow", "time": "9am"}


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[ServiceProcess, FakeOpenAI]]:
    with on_fake_model(API_KEYS=KEY, AGENTS="agent_session/data/cab_agent.yaml,"
                                            "tests/agents/tables.yaml") as ([process], fake):
        yield process, fake


def client_of(process: ServiceProcess, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{process.url}/v1", api_key=key, max_retries=0)


def result_of(content: str) -> dict:
    found = re.search(r"```json\n(.*)\n```", content, re.S)
    assert found, content
    return json.loads(found.group(1))


def test_the_agents_are_the_models(service):
    process, _ = service
    models = client_of(process).models.list()
    assert [m.id for m in models.data] == ["cab-booking", "tables"]


def test_a_booking_through_the_sdk(service):
    process, fake = service
    client = client_of(process)
    fake.script(json_answer(ALL_BUT_VEHICLE))
    raw = client.chat.completions.with_raw_response.create(
        model="cab-booking", messages=[{"role": "user", "content": FIRST}],
        extra_headers={"X-Thread-ID": "oa-1"})
    assert raw.headers["x-thread-id"] == "oa-1"
    asked = raw.parse()
    assert asked.object == "chat.completion" and asked.model == "cab-booking"
    assert asked.choices[0].message.content == "Which vehicle would you like?"
    fake.script(json_answer({"preferences": "sedan"}))
    booked = client.chat.completions.create(
        model="cab-booking", extra_headers={"X-Thread-ID": "oa-1"},
        messages=[{"role": "user", "content": FIRST},
                  {"role": "assistant", "content": "Which vehicle would you like?"},
                  {"role": "user", "content": "a sedan"}])
    content = booked.choices[0].message.content
    assert content.startswith("Your cab from MG Road")  # the agent's result_speech
    result = result_of(content)
    assert result["time"] == "09:00" and result["preferences"] == "sedan"
    session = httpx.get(f"{process.url}/session/oa-1", headers={"x-api-key": KEY}).json()
    assert [m["content"] for m in session["messages"] if m["role"] == "user"] == [
        FIRST, "a sedan"]  # each turn is the last user message only


def test_a_streamed_booking_through_the_sdk(service):
    process, fake = service
    client = client_of(process)
    fake.script(json_answer({**ALL_BUT_VEHICLE, "preferences": "an SUV"}))
    stream = client.chat.completions.create(
        model="cab-booking", stream=True, messages=[{"role": "user", "content":
                                                      FIRST + ", an SUV"}],
        extra_headers={"X-Thread-ID": "oa-2"})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert result_of(content)["preferences"] == "an SUV"


def test_errors_come_in_the_openai_shape(service):
    process, _ = service
    with pytest.raises(openai.NotFoundError) as missing:
        client_of(process).chat.completions.create(
            model="no-such-agent", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.AuthenticationError):
        client_of(process, "wrong").chat.completions.create(
            model="cab-booking", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError) as bad:
        client_of(process).chat.completions.create(
            model="cab-booking", messages=[{"role": "system", "content": "no user turn"}])
    assert bad.value.body["param"] == "messages"
    with pytest.raises(openai.ConflictError):  # the thread belongs to the cab agent
        client_of(process).chat.completions.create(
            model="tables", messages=[{"role": "user", "content": "four of us"}],
            extra_headers={"X-Thread-ID": "oa-1"})


def test_orchestrate_gets_its_own_events(service):
    """A body without `model`, as Orchestrate's external-agent call sends it: the default
    agent, the thread from X-IBM-THREAD-ID, each action as a step delta, then the message."""
    process, fake = service
    fake.script(json_answer(ALL_BUT_VEHICLE))
    events = []
    with httpx.stream("POST", f"{process.url}/v1/chat/completions", timeout=60,
                      headers={"Authorization": f"Bearer {KEY}", "X-IBM-THREAD-ID": "wxo-1"},
                      json={"messages": [{"role": "user", "content": FIRST}],
                            "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["x-thread-id"] == "wxo-1"
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)  # no event:, id: or comments
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    kinds = [event["object"] for event in events]
    assert kinds == ["thread.run.step.delta"] * 4 + ["thread.message.delta"]
    call = events[0]["choices"][0]["delta"]["step_details"]["tool_calls"][0]
    assert call["name"] == "search_places" and call["args"] == {"text_query": "MG Road"}
    answer = events[1]["choices"][0]["delta"]["step_details"]
    assert answer["type"] == "tool_response" and answer["tool_call_id"] == call["id"]
    assert "MG Road" in answer["content"]
    message = events[-1]
    assert message["thread_id"] == "wxo-1" and message["id"]
    assert message["choices"][0]["delta"]["content"] == "Which vehicle would you like?"
