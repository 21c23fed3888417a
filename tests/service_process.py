"""Run the real service (`python -m agent_session`) as a separate process for replica and crash
tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

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
