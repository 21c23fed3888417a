"""OpenTelemetry traces from a real service process to a local OTLP receiver: the spans of a
turn (request, turn, model calls, actions, store round trips) joined to the caller's trace,
over http/protobuf and grpc; nothing at all when tracing is off."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from agent_session.tracing import Tracing, tracing_enabled

from .fakes.openai_server import FakeOpenAI
from .fakes.otlp import grpc_receiver, http_receiver
from .fakes.server import serve
from .fakes.watsonx import tool_calls
from .service_process import ServiceProcess

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, dict[str, str]]]:
    fake = FakeOpenAI(api_key="sk-fake")
    with serve(fake.app()) as url:
        yield fake, {"LLM_BACKEND": "openai", "OPENAI_BASE_URL": f"{url}/v1",
                     "OPENAI_API_KEY": "sk-fake", "OPENAI_MODEL": "test-model",
                     "AGENT_STRATEGY": "react", "PLACES_BACKEND": "offline"}


def play_turn(fake: FakeOpenAI, url: str) -> None:
    fake.script(tool_calls(("search_places", {"text_query": "MG Road"})),
                tool_calls(("prompt_user", {"question": "Where are you going?"})))
    answer = httpx.post(f"{url}/chat", json={"session_id": "traced", "query": "From MG Road"},
                        headers={"traceparent": TRACEPARENT}, timeout=10)
    assert answer.status_code == 200 and answer.json()["status_code"] == "201"


def by_name(spans: list[dict]) -> dict[str, list[dict]]:
    named: dict[str, list[dict]] = {}
    for span in spans:
        named.setdefault(span["name"], []).append(span)
    return named


def test_a_turn_s_spans_join_the_caller_s_trace_over_http(model, tmp_path):
    fake, env = model
    with http_receiver() as (receiver, endpoint):
        # No scheduled export: the spans arrive only because shutdown flushes them.
        service = ServiceProcess(**env, SESSION_STORE=f"sqlite:///{tmp_path}/s.db",
                                 OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                                 OTEL_SERVICE_NAME="cab-test",
                                 OTEL_BSP_SCHEDULE_DELAY="600000").start()
        try:
            play_turn(fake, service.url)
        finally:
            service.stop()
        assert service.process.returncode == 0
        spans = receiver.wait_for(1, timeout=2)
    assert not [s for s in spans if "/health" in s["name"]]  # probes are not traced
    spans = [span for span in spans if span["name"] != "session_store delete_expired"]
    named = by_name(spans)
    assert {span["trace_id"] for span in spans} == {TRACE_ID}
    [request] = named["POST /chat"]
    assert request["parent_span_id"] == CALLER_SPAN
    assert request["attributes"]["http.route"] == "/chat"
    assert request["attributes"]["http.response.status_code"] == 200

    [turn] = named["invoke_agent react"]
    assert turn["attributes"]["session.id"] == "traced"
    assert turn["attributes"]["agent.outcome"] == "question"
    assert turn["parent_span_id"] == request["span_id"]
    calls = named["chat test-model"]
    assert len(calls) == 2 and all(c["parent_span_id"] == turn["span_id"] for c in calls)
    assert calls[0]["attributes"]["gen_ai.provider.name"] == "openai"
    assert calls[0]["attributes"]["gen_ai.request.model"] == "test-model"
    assert calls[0]["attributes"]["gen_ai.usage.input_tokens"] == 10
    assert calls[0]["attributes"]["gen_ai.usage.output_tokens"] == 5
    [action] = named["execute_tool search_places"]
    assert action["attributes"]["gen_ai.tool.name"] == "search_places"
    assert action["parent_span_id"] == turn["span_id"]
    for operation in ("lock_and_get", "commit"):
        [store] = named[f"session_store {operation}"]
        assert store["attributes"]["db.system.name"] == "sqlite"
        assert store["attributes"]["session.id"] == "traced"
    assert receiver.resources[0]["service.name"] == "cab-test"


def test_spans_go_over_grpc_too(model):
    fake, env = model
    with grpc_receiver() as (receiver, endpoint):
        service = ServiceProcess(**env, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                                 OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                                 OTEL_BSP_SCHEDULE_DELAY="100").start()
        try:
            play_turn(fake, service.url)
            spans = receiver.wait_for(7)
        finally:
            service.stop()
    named = by_name(spans)
    assert named["POST /chat"][0]["trace_id"] == TRACE_ID
    assert "invoke_agent react" in named and "session_store commit" in named


def test_nothing_is_sent_when_tracing_is_off(model):
    fake, env = model
    with http_receiver() as (receiver, endpoint):
        service = ServiceProcess(**env, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                                 OTEL_SDK_DISABLED="true", OTEL_BSP_SCHEDULE_DELAY="50").start()
        try:
            play_turn(fake, service.url)
        finally:
            service.stop()
        assert receiver.wait_for(1, timeout=1) == []
    assert not tracing_enabled({})
    assert not tracing_enabled({"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVICE_NAME": "x"})
    assert tracing_enabled({"OTEL_SERVICE_NAME": "x"})
    assert Tracing("1", environ={}).tracer is None
    assert not [name for name in os.environ if name.startswith("OTEL_")]  # tests run untraced
