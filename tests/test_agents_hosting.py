"""Several agents in one service: the routes, a session bound to its agent, the errors, and
the configuration that refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_session.errors import ConfigurationError
from agent_session.main import create_app
from agent_session.services import Overrides, build_services

from .conftest import make_settings, running
from .fakes.scripted_llm import ScriptedLLM

HERE = Path(__file__).parent
TABLES = str(HERE / "agents" / "tables.yaml")
CAB = "agent_session/data/cab_agent.yaml"


@pytest.fixture
async def two(harness_factory):
    async with harness_factory(agents=[CAB, TABLES], agent_strategy="form") as h:
        yield h


async def test_the_agents_are_listed_with_their_slots(two):
    listed = (await two.client.get("/agents")).json()["agents"]
    assert [a["name"] for a in listed] == ["cab-booking", "tables"]
    tables = (await two.client.get("/agents/tables")).json()
    assert tables["strategy"] == "form" and tables["description"].startswith("Books a table")
    assert tables["slots"][0] == {"name": "guests", "type": "integer",
                                  "question": "How many people?", "required": True}
    assert tables["slots"][-1]["required"] is False
    assert tables["result_schema"]["properties"]["guests"]["type"] == "integer"
    assert (await two.client.get("/agents/nope")).status_code == 404


async def test_a_session_keeps_the_agent_that_started_it(two):
    two.llm.extend([{"guests": "four"}])
    body = (await two.client.post("/agents/tables/chat", json={
        "session_id": "s1", "query": "four of us"})).json()
    assert (body["agent"], body["asking"], body["outcome"]) == ("tables", "date", "question")
    two.llm.extend([{"date": "tomorrow"}])
    body = (await two.chat("tomorrow", session_id="s1")).json()  # no agent named: its own
    assert (body["agent"], body["asking"]) == ("tables", "time")
    other = await two.client.post("/chat", json={"session_id": "s1", "query": "hi",
                                                 "agent": "cab-booking"})
    assert other.status_code == 409 and "tables" in other.json()["detail"]
    session = (await two.client.get("/session/s1")).json()
    assert session["agent"] == "tables"
    assert len([m for m in session["messages"] if m["role"] == "user"]) == 2  # 409 kept nothing


async def test_the_default_agent_and_the_body_field(two):
    two.llm.extend([{}])
    body = (await two.chat("hello", session_id="d1")).json()
    assert body["agent"] == "cab-booking"
    two.llm.extend([{}])
    body = (await two.client.post("/chat", json={"query": "hello", "agent": "tables"})).json()
    assert body["agent"] == "tables" and body["asking"] == "guests"
    missing = await two.client.post("/chat", json={"query": "hello", "agent": "nope"})
    assert missing.status_code == 404
    missing = await two.client.post("/agents/nope/chat", json={"query": "hello"})
    assert missing.status_code == 404
    bad = await two.client.post("/chat", json={"query": "hello", "agent": "Not An Agent"})
    assert bad.status_code == 422


async def test_a_stream_runs_the_named_agent(two):
    two.llm.extend([{"guests": "two"}])
    response = await two.client.post("/agents/tables/chat/stream", json={"query": "two of us"})
    assert response.status_code == 200
    assert '"agent": "tables"' in response.text and '"asking": "date"' in response.text


async def test_the_openapi_document_has_one_chat_operation_per_agent(two):
    spec = (await two.client.get("/openapi-3.0.json")).json()
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert operations == {"chat_cab_booking", "chat_tables", "get_session", "delete_session"}
    assert "/chat" not in spec["paths"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tables.yaml").write_text(Path(TABLES).read_text())
    (tmp_path / "cab.yaml").write_text(Path(CAB).read_text())
    (tmp_path / "cases").mkdir()  # sub-folders are not read
    (tmp_path / "cases" / "x.yaml").write_text("not: an agent")
    # a case file beside the agents is not one of them
    (tmp_path / "tables.cases.yaml").write_text("agent: tables\ncases: [{first: hi}]\n")
    return tmp_path


async def test_a_folder_of_agents_and_default_agent(folder):
    tmp_path = folder
    settings = make_settings(agents=str(tmp_path), default_agent="tables")
    app = create_app(settings, Overrides(llm=ScriptedLLM()))
    async with running(app) as client:
        names = [a["name"] for a in (await client.get("/agents")).json()["agents"]]
        assert names == ["cab-booking", "tables"]
        assert app.state.services.agents.default == "tables"


def test_settings_that_cannot_work_refuse_to_start(tmp_path):
    with pytest.raises(ConfigurationError, match="unique"):
        build_services(make_settings(agents=[TABLES, TABLES]), Overrides(llm=ScriptedLLM()))
    with pytest.raises(ConfigurationError, match="DEFAULT_AGENT=nope"):
        build_services(make_settings(agents=[TABLES], default_agent="nope"),
                       Overrides(llm=ScriptedLLM()))
    with pytest.raises(ConfigurationError, match="holds no"):
        build_services(make_settings(agents=[str(tmp_path)]), Overrides(llm=ScriptedLLM()))
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: Bad Name\nform: {slots: []}\n")
    with pytest.raises(ConfigurationError, match="broken.yaml"):
        build_services(make_settings(agents=[str(broken)]), Overrides(llm=ScriptedLLM()))


async def test_an_agent_without_place_search_builds_none(harness_factory):
    async with harness_factory(agent_file=TABLES) as h:
        assert h.services.places is None
        checks = (await h.client.get("/ready")).json()["checks"]
        assert "places" not in checks and checks["session_store"] == "ok"
