"""A2A on the official a2a-sdk, played by its own client against real service processes: a
booking over JSON-RPC plain (protocol 1.0) and streamed (0.3, as Orchestrate registers it), a
task continued on a second replica sharing Redis, `tasks/get` there; the cards, and the
watsonx Orchestrate ADK's discovery reading one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import get_data_parts, get_message_text
from a2a.types import AgentCard, GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState
from google.protobuf import json_format

from .fakes.openai_server import FakeOpenAI, json_answer
from .service_process import ServiceProcess, on_fake_model
from .test_orchestrate import adk_python, run_adk  # noqa: F401 (a fixture)

KEY = "a2a-key"
ROOT = Path(__file__).resolve().parents[1]
AGENTS = "agent_session/data/cab_agent.yaml,tests/agents/tables.yaml"


@pytest.fixture(scope="module")
def replicas(redis_url) -> Iterator[tuple[ServiceProcess, ServiceProcess, FakeOpenAI]]:
    """Two replicas sharing one Redis database."""
    with on_fake_model(count=2, API_KEYS=KEY, AGENTS=AGENTS, DEFAULT_AGENT="cab-booking",
                       SESSION_STORE=redis_url.rsplit("/", 1)[0] + "/5") as (both, fake):
        yield both[0], both[1], fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(headers={"x-api-key": KEY}, timeout=60) as client:
        yield client


async def card_of(http: httpx.AsyncClient, base: str, agent: str,
                  versions: tuple[str, ...] = ("0.3", "1.0")) -> AgentCard:
    data = (await http.get(f"{base}/a2a/{agent}/.well-known/agent-card.json",
                           headers={"x-api-key": ""})).json()  # public: no key needed
    card = json_format.ParseDict(data, AgentCard(), ignore_unknown_fields=True)
    keep = [i for i in card.supported_interfaces if i.protocol_version in versions]
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(keep)
    return card


def user(text: str, task_id: str = "", context_id: str = "") -> SendMessageRequest:
    return SendMessageRequest(message=Message(
        message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=text)],
        task_id=task_id, context_id=context_id))


async def send(http: httpx.AsyncClient, card: AgentCard, request: SendMessageRequest,
               streaming: bool) -> list:
    client = await create_client(card, ClientConfig(streaming=streaming, httpx_client=http))
    return [event async for event in client.send_message(request)]


def last_task(events: list):
    tasks = [e.task for e in events if e.HasField("task")]
    assert tasks, events
    return tasks[-1]


async def test_the_cards(replicas, http):
    first, _, _ = replicas
    card = (await http.get(f"{first.url}/.well-known/agent-card.json",
                           headers={"x-api-key": ""})).json()
    assert card["name"] == "cab-booking" and "Books a cab" in card["description"]
    assert card["url"] == f"{first.url}/a2a/cab-booking"  # the 0.3 field, for discovery
    assert {"ApiKeyAuth", "BearerAuth"} <= set(card["securitySchemes"])
    assert card["capabilities"]["streaming"] is True
    tables = (await http.get(f"{first.url}/a2a/tables/.well-known/agent-card.json")).json()
    assert tables["skills"][0]["description"].startswith("Books a table")
    assert (await http.get(f"{first.url}/a2a/nope/.well-known/agent-card.json")).status_code \
        == 404
    refused = await http.post(f"{first.url}/a2a/tables", headers={"x-api-key": "wrong"},
                              json={"jsonrpc": "2.0", "id": 1, "method": "message/send"})
    assert refused.status_code == 401


async def test_a_task_booked_across_two_replicas(replicas, http):
    """Protocol 1.0, plain: the task starts on the first replica and goes on on the second,
    which has only the shared store to know it by."""
    first, second, fake = replicas
    fake.script(json_answer({"guests": "four", "date": "tomorrow", "time": "8 pm"}))
    task = last_task(await send(http, await card_of(http, first.url, "tables", ("1.0",)),
                                user("four of us tomorrow at 8 pm"), streaming=False))
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert get_message_text(task.status.message) == "Under what name?"

    on_second = await card_of(http, second.url, "tables", ("1.0",))
    fake.script(json_answer({"name": "Sam Lee"}))
    for text in ("Sam Lee", "inside"):
        task = last_task(await send(http, on_second, user(text, task.id, task.context_id),
                                    streaming=False))
        assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert "Shall I book it?" in get_message_text(task.status.message)
    task = last_task(await send(http, on_second, user("yes", task.id, task.context_id),
                                streaming=False))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    result = get_data_parts(task.artifacts[0].parts)[0]
    assert result["guests"] == 4 and result["name"] == "Sam Lee" and result["time"] == "20:00"

    client = await create_client(on_second, ClientConfig(streaming=False, httpx_client=http))
    fetched = await client.get_task(GetTaskRequest(id=task.id))
    assert fetched.status.state == TaskState.TASK_STATE_COMPLETED
    session = (await http.get(f"{first.url}/session/{task.context_id}")).json()
    assert session["agent"] == "tables" and session["result"]["guests"] == 4


async def test_a_streamed_task_sends_each_action_as_a_status_update(replicas, http):
    """Protocol 0.3 (what Orchestrate registers), streamed: the place searches arrive as
    working updates before the question."""
    first, _, fake = replicas
    fake.script(json_answer({"pickup_location": "MG Road", "destination": "Koramangala",
                             "date": "tomorrow", "time": "9am"}))
    events = await send(http, await card_of(http, first.url, "cab-booking", ("0.3",)),
                        user("a cab from MG Road to Koramangala tomorrow at 9am"),
                        streaming=True)
    updates = [e.status_update for e in events if e.HasField("status_update")]
    actions = [json_format.MessageToDict(u.metadata).get("action") for u in updates
               if u.status.state == TaskState.TASK_STATE_WORKING]
    assert actions.count("search_places") == 2
    asked = updates[-1]
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert get_message_text(asked.status.message) == "Which vehicle would you like?"
    fake.script(json_answer({"preferences": "a sedan"}))
    card = await card_of(http, first.url, "cab-booking", ("0.3",))
    events = await send(http, card, user("a sedan", asked.task_id, asked.context_id),
                        streaming=True)
    done = [e for e in events if e.HasField("artifact_update")]
    assert get_data_parts(done[0].artifact_update.artifact.parts)[0]["preferences"] == "a sedan"
    final = [e.status_update for e in events if e.HasField("status_update")][-1]
    assert final.status.state == TaskState.TASK_STATE_COMPLETED
    assert get_message_text(final.status.message).startswith("Your cab from MG Road")


def test_the_orchestrate_adk_discovers_the_agent(adk_python, replicas, tmp_path):  # noqa: F811
    first, _, _ = replicas
    spec = run_adk(adk_python, "discover_a2a.py", f"{first.url}/a2a/tables", scratch=tmp_path)
    assert spec["api_url"] == f"{first.url}/a2a/tables"
    assert spec["provider"] == "external_chat/A2A/0.3.0" and spec["kind"] == "external"


async def test_the_task_store_keeps_and_forgets_tasks_in_the_session_store(harness):
    from a2a.types import Task, TaskStatus

    from agent_session.api.a2a import SessionTaskStore

    tasks = SessionTaskStore(harness.services)
    task = Task(id="t-1", context_id="c-1",
                status=TaskStatus(state=TaskState.TASK_STATE_INPUT_REQUIRED))
    await tasks.save(task)
    assert await tasks.get("t-1") == task
    await tasks.delete("t-1")
    assert await tasks.get("t-1") is None
