"""Embedded-model benchmark: both agent strategies on the same conversations in one run,
through the whole service (HTTP app, strategy, local model): pass rate, seconds per booking
(median, p95), seconds per turn (p95), model calls per user turn and seconds per model call.

    python bench/llm_local.py [--only c01 c02] [--strategies form react]
        [--conversations conversations/cab_public.json]

Each strategy gets a fresh app (and model instance); its start-up warm-up is awaited before
the clock starts, as a user arriving after start-up would find it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_session.config import Settings
from agent_session.eval.player import play
from agent_session.main import create_app
from agent_session.services import resolve_timezone


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


async def run_strategy(strategy: str, conversations: list[dict], max_turns: int) -> dict:
    settings = Settings(llm_backend="local", agent_strategy=strategy, log_file="",
                        log_level="WARNING", llm_timeout_seconds=300,
                        turn_timeout_seconds=900)
    app = create_app(settings)
    tz = resolve_timezone(settings.timezone)
    rows = []
    async with app.router.lifespan_context(app):
        services = app.state.services
        llm = services.llm
        started = time.perf_counter()
        await llm.check()
        if services.warm_up is not None:
            await services.warm_up
        ready = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for conversation in conversations:
                before = dict(llm.stats)
                outcome = await play(client, conversation, max_turns, tz)
                calls = llm.stats["calls"] - before["calls"]
                seconds = llm.stats["seconds"] - before["seconds"]
                rows.append({"id": conversation["id"], "passed": outcome.passed,
                             "turns": outcome.turns, "calls": calls, "seconds": outcome.seconds,
                             "model_seconds": seconds, "turn_seconds": outcome.turn_seconds})
                print(f"  {strategy:5s} {conversation['id']:28s} "
                      f"{'pass' if outcome.passed else 'FAIL'} turns={outcome.turns} "
                      f"calls={calls} {outcome.seconds:.1f} s", flush=True)
    turns = [t for r in rows for t in r["turn_seconds"]]
    calls = sum(r["calls"] for r in rows)
    return {
        "strategy": strategy, "ready": ready,
        "passed": sum(r["passed"] for r in rows), "n": len(rows),
        "median_booking": statistics.median(r["seconds"] for r in rows),
        "p95_booking": p95([r["seconds"] for r in rows]),
        "p95_turn": p95(turns), "median_turn": statistics.median(turns),
        "calls_per_turn": calls / max(1, len(turns)),
        "seconds_per_call": sum(r["model_seconds"] for r in rows) / max(1, calls),
    }


async def main(args: argparse.Namespace, data: dict) -> None:
    conversations = [c for c in data["conversations"]
                     if not args.only or c["id"].split("-")[0] in args.only]
    results = [await run_strategy(s, conversations, data.get("max_turns", 8))
               for s in args.strategies]
    print(f"\n{len(conversations)} conversations from {args.conversations}")
    print(f"{'strategy':9s} {'booked':>7s} {'median s/booking':>17s} {'p95 s/booking':>14s} "
          f"{'median s/turn':>14s} {'p95 s/turn':>11s} {'calls/turn':>11s} {'s/call':>7s} "
          f"{'start-up s':>11s}")
    for r in results:
        print(f"{r['strategy']:9s} {r['passed']:>3d}/{r['n']:<3d} {r['median_booking']:17.1f} "
              f"{r['p95_booking']:14.1f} {r['median_turn']:14.2f} {r['p95_turn']:11.2f} "
              f"{r['calls_per_turn']:11.2f} {r['seconds_per_call']:7.2f} {r['ready']:11.1f}")
    if len(results) == 2 and results[0]["median_booking"]:
        a, b = results
        print(f"{b['strategy']} ÷ {a['strategy']}: median seconds per booking "
              f"{b['median_booking'] / a['median_booking']:.1f}x, model calls per turn "
              f"{b['calls_per_turn'] / max(a['calls_per_turn'], 1e-9):.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", default="conversations/cab_public.json")
    parser.add_argument("--only", nargs="*", help="conversation ids or prefixes (default: all)")
    parser.add_argument("--strategies", nargs="*", default=["form", "react"])
    arguments = parser.parse_args()
    payload = json.loads(Path(arguments.conversations).read_text(encoding="utf-8"))
    asyncio.run(main(arguments, payload))
