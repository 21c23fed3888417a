"""watsonx Orchestrate's importer on `/openapi-3.0.json`, then a booking played the way
Orchestrate's runtime calls an imported tool: only through the tool's binding (server, path,
method, the `x-api-key` its security names), never through our own client code.

The ADK (`ibm-watsonx-orchestrate`) lives in its own venv, `.venv-orchestrate`, which
`scripts/test.sh` installs (its pins clash with the service's). Without it the test skips,
unless REQUIRE_ORCHESTRATE=1 (CI), which fails it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from .fakes.openai_server import json_answer
from .service_process import on_fake_model

ROOT = Path(__file__).resolve().parent.parent
ADK_PYTHON = Path(os.environ.get("ORCHESTRATE_PYTHON", ROOT / ".venv-orchestrate/bin/python"))
KEY = "orchestrate-connection-key"


@pytest.fixture(scope="module")
def adk_python() -> Path:
    if not ADK_PYTHON.exists():
        if os.environ.get("REQUIRE_ORCHESTRATE") == "1":
            pytest.fail(f"REQUIRE_ORCHESTRATE=1 but {ADK_PYTHON} is missing "
                        "(scripts/test.sh installs requirements-orchestrate.txt there)")
        pytest.skip("the watsonx Orchestrate ADK venv is not installed")
    return ADK_PYTHON


def import_tools(adk_python: Path, spec: dict[str, Any], scratch: Path) -> list[dict]:
    """The ADK's tools for `spec`, as `orchestrate tools import -k openapi` makes them."""
    path = scratch / "openapi-3.0.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run([str(adk_python), str(ROOT / "tests/orchestrate/import_tools.py"),
                           str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(scratch)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def invoke(tool: dict[str, Any], arguments: dict[str, Any], key: str) -> httpx.Response:
    """Call a tool as Orchestrate's runtime does: URL from the binding's server and path (path
    inputs are `path_<name>`), the JSON body from `__requestBody__`, the key where the
    binding's security scheme says."""
    binding = tool["binding"]["openapi"]
    properties = tool["input_schema"]["properties"]
    path = binding["http_path"]
    for name, schema in properties.items():
        if schema.get("in") == "path":
            path = path.replace("{" + schema.get("aliasName", name[5:]) + "}",
                                str(arguments[name]))
    headers = {}
    for scheme in binding["security"]:
        if scheme["type"] == "apiKey" and scheme["in"] == "header":
            headers[scheme["name"]] = key
            break
    return httpx.request(binding["http_method"], binding["servers"][0] + path,
                         json=arguments.get("__requestBody__"), headers=headers, timeout=30)


@pytest.fixture
def service(tmp_path):
    with on_fake_model(API_KEYS=KEY,
                       SESSION_STORE=f"sqlite:///{tmp_path}/sessions.db") as ([process], fake):
        yield process, fake


def test_orchestrate_imports_the_spec_and_books_through_the_bindings(adk_python, service,
                                                                     tmp_path):
    process, fake = service
    response = httpx.get(f"{process.url}/openapi-3.0.json", headers={"x-api-key": KEY})
    assert response.status_code == 200
    tools = {tool["name"]: tool for tool in import_tools(adk_python, response.json(), tmp_path)}

    assert set(tools) == {"chat", "get_session", "delete_session"}
    chat, get_session, delete = tools["chat"], tools["get_session"], tools["delete_session"]
    assert "201" in chat["description"] and "session_id" in chat["description"]
    body = chat["input_schema"]["properties"]["__requestBody__"]
    assert body["required"] == ["query"]
    assert set(body["properties"]) == {"session_id", "user_id", "query"}
    assert {"session_id", "query", "final_response", "status_code"} <= set(
        chat["output_schema"]["properties"])
    assert get_session["input_schema"]["required"] == ["path_session_id"]
    assert {"messages", "result"} <= set(get_session["output_schema"]["properties"])
    for tool, method in ((chat, "POST"), (get_session, "GET"), (delete, "DELETE")):
        binding = tool["binding"]["openapi"]
        assert binding["servers"] == [process.url] and binding["http_method"] == method
        assert {"type": "apiKey", "in": "header", "name": "x-api-key"} in binding["security"]

    # The runtime's calls, on a model that extracts the slots from what the user says.
    fake.script(json_answer({"pickup_location": "MG Road", "destination": "Koramangala",
                             "date": "tomorrow", "time": "9am"}),
                json_answer({"preferences": "sedan"}))
    asked = invoke(chat, {"__requestBody__": {
        "user_id": "12345", "query": "I need a cab from MG Road to Koramangala tomorrow at 9am"}},
        KEY)
    assert asked.status_code == 200, asked.text
    assert asked.json()["status_code"] == "201" and "vehicle" in asked.json()["query"].lower()
    session_id = asked.json()["session_id"]
    booked = invoke(chat, {"__requestBody__": {"session_id": session_id, "user_id": "12345",
                                               "query": "a sedan please"}}, KEY).json()
    assert booked["status_code"] == "200", booked
    result = booked["final_response"]
    assert "MG Road" in result["pickup_location"] and "Koramangala" in result["destination"]
    assert result["time"] == "09:00" and re.fullmatch(r"\d{4}-\d\d-\d\d", result["date"])
    assert "sedan" in result["preferences"].lower()

    stored = invoke(get_session, {"path_session_id": session_id}, KEY)
    assert stored.status_code == 200 and stored.json()["result"] == result
    assert invoke(delete, {"path_session_id": session_id}, KEY).status_code == 200
    assert invoke(get_session, {"path_session_id": session_id}, KEY).status_code == 404
    assert invoke(get_session, {"path_session_id": session_id}, "wrong").status_code == 401


def test_several_agents_are_one_operation_each_through_the_importer(adk_python, tmp_path):
    tables = ROOT / "tests/agents/tables.yaml"
    agents = f"agent_session/data/cab_agent.yaml,{tables}"
    with on_fake_model(API_KEYS=KEY, AGENTS=agents) as ([process], fake):
        spec = httpx.get(f"{process.url}/openapi-3.0.json", headers={"x-api-key": KEY})
        tools = {tool["name"]: tool
                 for tool in import_tools(adk_python, spec.json(), tmp_path)}
        assert set(tools) == {"chat_cab_booking", "chat_tables", "get_session",
                              "delete_session"}
        assert "Books a table" in tools["chat_tables"]["description"]
        assert tools["chat_tables"]["binding"]["openapi"]["http_path"] == \
            "/agents/tables/chat"
        fake.script(json_answer({"guests": "four", "date": "tomorrow"}))
        asked = invoke(tools["chat_tables"], {"__requestBody__": {
            "query": "four of us tomorrow"}}, KEY).json()
        assert (asked["agent"], asked["asking"]) == ("tables", "time")


def run_adk(adk_python: Path, script: str, *args: str, scratch: Path) -> Any:
    done = subprocess.run([str(adk_python), str(ROOT / "tests/orchestrate" / script), *args],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(scratch)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ibm_validator_passes_a_streamed_turn_as_an_external_agent(adk_python, service,
                                                                  tmp_path):
    """`orchestrate evaluations validate-external`'s own class, against our
    /v1/chat/completions: it sends no model and no thread header, streams, and checks every
    event."""
    process, fake = service
    fake.script(json_answer({"pickup_location": "MG Road", "destination": "Koramangala",
                             "date": "tomorrow", "time": "9am"}))
    verdict = run_adk(adk_python, "validate_external.py", f"{process.url}/v1/chat/completions",
                      KEY, "I need a cab from MG Road to Koramangala tomorrow at 9am",
                      scratch=tmp_path)
    assert verdict["success"] is True
    objects = [event["object"] for event in verdict["events"]]
    assert objects[-1] == "thread.message.delta" and "thread.run.step.delta" in objects
    assert "vehicle" in verdict["events"][-1]["choices"][0]["delta"]["content"]


def test_the_readme_external_agent_yaml_loads_in_the_adk(adk_python, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Use it from watsonx Orchestrate as an external agent", 1)[1]
    spec = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "cab-agent.yaml"
    path.write_text(spec.replace("https://agents.example.com", "http://127.0.0.1:8000"))
    agent = run_adk(adk_python, "load_external_agent.py", str(path), scratch=tmp_path)
    assert agent["kind"] == "external" and agent["provider"] == "external_chat"
    assert agent["api_url"] == "http://127.0.0.1:8000/v1/chat/completions"
    assert agent["auth_scheme"] == "API_KEY" and agent["name"] == "cab_booking"
