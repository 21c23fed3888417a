"""A whole booking on `LLM_BACKEND=openai` against a real OpenAI-compatible server: llama-cpp-
python's (`python -m llama_cpp.server`) serving the bundled model on 127.0.0.1, started here."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from agent_session.config import Settings
from agent_session.llm.model_files import assemble
from agent_session.main import create_app

from .conftest import make_settings, running
from .fakes.server import free_port

MODEL = "qwen2.5-coder-1.5b"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[str]:
    path = assemble(Settings(_env_file=None).model_cache_dir)
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", MODEL,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start: {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def test_a_booking_through_the_real_llama_cpp_server(llama_server):
    # What this checks is a booking through the real server, not its speed: its first call
    # reads the whole fixed prompt (about 20 s on 2 idle cores, more on a loaded machine), so
    # the deadlines are far from the production defaults.
    app = create_app(make_settings(llm_backend="openai", openai_base_url=llama_server,
                                   openai_model=MODEL, agent_strategy="form",
                                   llm_timeout_seconds=300, turn_timeout_seconds=300))
    async with running(app) as client:
        assert (await client.get("/ready")).json()["checks"]["llm"] == "ok"
        first = await client.post("/chat", json={
            "query": "I need a cab from MG Road to Koramangala tomorrow at 9am",
            "user_id": "12345", "session_id": "real-1"})
        assert first.status_code == 200, first.text
        assert first.json()["query"] == "Which vehicle would you like?", first.json()
        done = (await client.post("/chat", json={"query": "a sedan", "user_id": "12345",
                                                 "session_id": "real-1"})).json()
    assert done["status_code"] == "200", done
    result = done["final_response"]
    assert result["pickup_location"].startswith("MG Road")
    assert result["destination"].startswith("Koramangala")
    assert result["time"] == "09:00" and "sedan" in result["preferences"]
