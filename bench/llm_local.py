"""Embedded-model benchmark: every agent's case files through the whole service (HTTP app,
strategy, local model), per strategy, in one run: per agent, right/total, median and p95
seconds per conversation, and model calls per user turn.

    python bench/llm_local.py [--strategies form react] [--only c01,t02]
        [FILE ...]   (default: the cab agent's and every example agent's public cases)

Each strategy gets a fresh app (and model instance) hosting every agent the files name; its
start-up warm-up is awaited before the clock starts, as a user arriving after start-up would
find it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_session.config import Settings  # noqa: E402
from agent_session.eval import load_case_file  # noqa: E402
from agent_session.eval.player import evaluate  # noqa: E402
from agent_session.eval.report import summarize  # noqa: E402
from agent_session.main import create_app  # noqa: E402
from agent_session.services import resolve_timezone  # noqa: E402

DEFAULT_FILES = [ROOT / "conversations/cab-booking.public.yaml",
                 *sorted((ROOT / "examples/agents/cases").glob("*.public.yaml"))]
AGENTS = f"{ROOT / 'agent_session/data/cab_agent.yaml'},{ROOT / 'examples/agents'}"


async def run_strategy(strategy: str, files: list[Path], only: list[str]) -> None:
    settings = Settings(llm_backend="local", agent_strategy=strategy, log_file="",
                        log_level="WARNING", llm_timeout_seconds=300, turn_timeout_seconds=900,
                        agents=AGENTS, default_agent="cab-booking")
    case_files = [load_case_file(path) for path in files]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if app.state.services.warm_up is not None:
            await app.state.services.warm_up
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            results = await evaluate(client, case_files, tz=resolve_timezone(settings.timezone),
                                     only=only)
    for agent in dict.fromkeys(r.agent for r in results):
        own = summarize([r for r in results if r.agent == agent])
        print(f"{strategy:5s} {agent:20s} {own.line()}", flush=True)
    print(f"{strategy:5s} {'all':20s} {summarize(results).line()}", flush=True)


async def main(args: argparse.Namespace) -> None:
    files = [Path(f) for f in args.files] or DEFAULT_FILES
    only = [i.strip() for arg in args.only or [] for i in arg.split(",") if i.strip()]
    for strategy in args.strategies:
        await run_strategy(strategy, files, only)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*")
    parser.add_argument("--strategies", nargs="+", default=["form"], choices=["form", "react"])
    parser.add_argument("--only", action="append")
    asyncio.run(main(parser.parse_args()))
