"""Embedded-model benchmark: per-step latency, tokens/s and seconds per booking on the shared
cab conversations, through the whole service (HTTP app, agent loop, local model).

    python bench/llm_local.py [--only c01 c02] [--conversations conversations/cab_public.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_session.config import Settings
from agent_session.eval.player import play
from agent_session.main import create_app
from agent_session.services import resolve_timezone


async def main(args: argparse.Namespace, data: dict) -> None:
    settings = Settings(llm_backend="local", log_file="", log_level="WARNING",
                        llm_timeout_seconds=300)
    app = create_app(settings)
    tz = resolve_timezone(settings.timezone)
    conversations = [c for c in data["conversations"]
                     if not args.only or c["id"].split("-")[0] in args.only]
    async with app.router.lifespan_context(app):
        llm = app.state.services.llm
        started = time.perf_counter()
        await llm.check()
        load = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        rows = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for conversation in conversations:
                before = dict(llm.stats)
                outcome = await play(client, conversation, data.get("max_turns", 8), tz)
                calls = llm.stats["calls"] - before["calls"]
                seconds = llm.stats["seconds"] - before["seconds"]
                generated = llm.stats["completion_tokens"] - before["completion_tokens"]
                rows.append((conversation["id"], outcome.passed, outcome.turns, calls,
                             outcome.seconds, seconds / max(calls, 1),
                             generated / max(seconds, 1e-9)))
    print(f"model load (assembled file cached): {load:.1f} s")
    print(f"{'conversation':28s} pass turns calls  s/booking  s/call  gen tok/s")
    for cid, passed, turns, calls, total, per_call, tps in rows:
        print(f"{cid:28s} {'yes' if passed else 'no ':4s} {turns:5d} {calls:5d} {total:10.1f} "
              f"{per_call:7.2f} {tps:10.1f}")
    total_calls = sum(r[3] for r in rows)
    print(f"mean seconds per booking: {sum(r[4] for r in rows) / max(len(rows), 1):.1f}; "
          f"mean seconds per model call: {sum(r[4] for r in rows) / max(total_calls, 1):.2f}; "
          f"passed {sum(r[1] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", default="conversations/cab_public.json")
    parser.add_argument("--only", nargs="*", default=["c01", "c02"])
    arguments = parser.parse_args()
    payload = json.loads(Path(arguments.conversations).read_text(encoding="utf-8"))
    asyncio.run(main(arguments, payload))
