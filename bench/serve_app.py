"""The service as configured by the environment, plus two bare routes for comparison on the
same server: `POST /bench/echo` (returns the body) and `POST /bench/sleep?seconds=` (only
sleeps). Run by the benchmarks in their own process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import Body

from agent_session.config import Settings
from agent_session.main import create_app
from agent_session.server import serve


def main() -> None:
    settings = Settings()
    app = create_app(settings)

    @app.post("/bench/echo")
    async def echo(body: dict = Body(...)) -> dict:
        return body

    @app.post("/bench/sleep")
    async def sleep(seconds: float = 0.5) -> dict:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    serve(app, settings.host, settings.port, log_level="warning", backlog=2048)


if __name__ == "__main__":
    main()
