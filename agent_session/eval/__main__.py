"""`python -m agent_session.eval CONVERSATIONS.json`: play scripted conversations against the
configured service (in process, through the HTTP app) or a running one (`--url`), and print
pass/fail, steps and seconds per conversation, then the pass rate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import httpx

from ..config import Settings
from ..main import create_app
from ..services import resolve_timezone
from .player import play


async def run(args: argparse.Namespace, data: dict) -> float:
    conversations = [c for c in data["conversations"]
                     if not args.only or c["id"] in args.only or c["id"].split("-")[0] in args.only]
    max_turns = data.get("max_turns", 8)
    settings = Settings()
    tz = resolve_timezone(settings.timezone)
    headers = {"X-API-Key": args.api_key} if args.api_key else None
    outcomes = []

    async def play_all(client: httpx.AsyncClient) -> None:
        for conversation in conversations:
            outcome = await play(client, conversation, max_turns, tz, headers)
            outcomes.append(outcome)
            verdict = "PASS" if outcome.passed else "FAIL"
            print(f"{verdict} {outcome.conversation_id:28s} turns={outcome.turns} "
                  f"steps={outcome.steps} seconds={outcome.seconds:.1f}", flush=True)
            if not outcome.passed:
                for problem in outcome.problems:
                    print(f"     {problem}")
                if args.verbose:
                    for who, text in outcome.transcript:
                        print(f"     {who}: {text}")

    if args.url:
        async with httpx.AsyncClient(base_url=args.url) as client:
            await play_all(client)
    else:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            if app.state.services.warm_up is not None:  # time the turns, not the start-up
                await app.state.services.warm_up
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://eval") as client:
                await play_all(client)
    passed = sum(o.passed for o in outcomes)
    rate = passed / len(outcomes) if outcomes else 0.0
    seconds = sum(o.seconds for o in outcomes)
    print(f"pass rate {passed}/{len(outcomes)} = {rate:.2f}; {seconds:.1f} s in all, "
          f"{seconds / max(1, len(outcomes)):.1f} s per conversation")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m agent_session.eval", description=__doc__)
    parser.add_argument("conversations", help="a conversations JSON file")
    parser.add_argument("--url", help="a running service instead of an in-process app")
    parser.add_argument("--api-key", help="X-API-Key for a service with API_KEYS set")
    parser.add_argument("--only", nargs="*", help="conversation ids (or prefixes like c01)")
    parser.add_argument("--min-pass-rate", type=float, default=0.0,
                        help="exit 1 when the pass rate is below this")
    parser.add_argument("-v", "--verbose", action="store_true", help="print failed transcripts")
    args = parser.parse_args()
    data = json.loads(Path(args.conversations).read_text(encoding="utf-8"))
    rate = asyncio.run(run(args, data))
    sys.exit(0 if rate >= args.min_pass_rate else 1)


if __name__ == "__main__":
    main()
