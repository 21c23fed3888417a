"""The service as configured by the environment, plus two bare routes for comparison on the
same server: `POST /bench/echo` (returns the body) and `POST /bench/sleep?seconds=` (only
sleeps). Run by the benchmarks in their own process.

`BENCH_WITHOUT` (comma-separated) switches speed tricks off, so one benchmark run measures the
service with and without each (`bench/service.py --without`):
- `batching`: every sqlite store call makes its own trip to the connection's thread (its own
  transaction) instead of sharing one with the calls of the same loop iteration.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import Body

from agent_session.config import Settings
from agent_session.main import create_app
from agent_session.server import serve


def switch_off(tricks: set[str]) -> None:
    unknown = tricks - {"batching"}
    if unknown:
        raise SystemExit(f"BENCH_WITHOUT: unknown tricks {sorted(unknown)}")
    if "batching" in tricks:
        from agent_session.stores.batching import IterationBatcher

        async def alone(self, item):  # a batch of one, sent at once
            (reply,) = await self._send([item])
            if isinstance(reply, Exception):
                raise reply
            return reply

        IterationBatcher.run = alone


def main() -> None:
    switch_off({name for name in os.environ.get("BENCH_WITHOUT", "").split(",") if name})
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
