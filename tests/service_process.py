"""Run the real service (`python -m agent_session`) as a separate process for replica and crash
tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .fakes.server import free_port


class ServiceProcess:
    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "LOG_FILE": "",
                    "LOG_LEVEL": "WARNING", "LLM_BACKEND": "echo", **env}
        self.process: subprocess.Popen | None = None
        # A file, not a pipe: a pipe nobody reads would block the service once full.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives with the process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        self.process = subprocess.Popen([sys.executable, "-m", "agent_session"], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.logs()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("service did not become healthy")

    def logs(self) -> str:
        """What the service wrote to stderr so far (warnings and errors at LOG_LEVEL=WARNING)."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def on_fake_model(*, count: int = 1, **env: str) -> Iterator[tuple[list[ServiceProcess], Any]]:
    """`count` service processes (replicas when they share a store) whose model is one fake
    OpenAI-compatible server, scripted by the test: ([processes], fake)."""
    from .fakes.openai_server import FakeOpenAI
    from .fakes.server import serve

    fake = FakeOpenAI(api_key="sk-fake")
    with serve(fake.app()) as url:
        processes = [ServiceProcess(LLM_BACKEND="openai", OPENAI_BASE_URL=f"{url}/v1",
                                    OPENAI_API_KEY="sk-fake", OPENAI_MODEL="test-model",
                                    AGENT_STRATEGY="form", PLACES_BACKEND="offline", **env)
                     for _ in range(count)]
        started: list[ServiceProcess] = []
        try:
            for process in processes:
                started.append(process.start())
            yield processes, fake
        finally:
            for process in started:
                process.stop()
