"""`python -m agent_session.eval FILE...`: play the case files against the service (in process
with the current settings, or a running one with --url), print a line per case, a table and
the pass rate, optionally write JUnit XML.

Exit codes: 0 when every agent's pass rate reaches --min-pass-rate, 1 when one does not, 2 on
bad input
(a malformed case file, an unknown agent, a reply, `asks` or expected field the agent lacks).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

import httpx

from ..agent.custom_actions import AgentFileError
from ..errors import ConfigurationError
from .cases import CaseFile, CaseFileError, load_case_file
from .player import CaseResult, evaluate
from .report import Progress, summarize, table, write_junit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agent_session.eval", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="case files (YAML or JSON; old conversations/*.json too)")
    parser.add_argument("--url", help="a running service instead of the in-process app")
    parser.add_argument("--agent", help="play every file against this agent instead of its own")
    parser.add_argument("--only", action="append", metavar="ID,...",
                        help="only these case ids (or prefixes such as c01), comma-separated")
    parser.add_argument("--junit", metavar="PATH", help="write JUnit XML here")
    parser.add_argument("--min-pass-rate", type=float, default=1.0, metavar="X",
                        help="exit 1 when an agent's pass rate is below this (default 1.0)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="play each case N times")
    parser.add_argument("--api-key", help="X-API-Key for a service with API_KEYS set")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the transcript of each failed case")
    return parser


def local_timezone():
    """The service's TIMEZONE setting, read here (also with --url) for +Nd dates."""
    from ..config import Settings
    from ..services import resolve_timezone

    return resolve_timezone(Settings().timezone)


async def run(args: argparse.Namespace, case_files: Sequence[CaseFile],
              out: TextIO) -> list[CaseResult]:
    """Play against --url, or start the service in process (lifespan and warm-up awaited, so
    the first case is timed as a user arriving after start-up would find it)."""
    progress = Progress(out, args.verbose)
    only = [i.strip() for arg in args.only or [] for i in arg.split(",") if i.strip()]
    tz = local_timezone()

    async def play_all(client: httpx.AsyncClient) -> list[CaseResult]:
        return await evaluate(client, case_files, tz=tz, agent=args.agent, only=only,
                              repeat=args.repeat, api_key=args.api_key,
                              on_start=progress.start, on_result=progress.result)

    if args.url:
        async with httpx.AsyncClient(base_url=args.url) as client:
            return await play_all(client)
    from ..config import Settings
    from ..main import create_app

    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        if app.state.services.warm_up is not None:
            await app.state.services.warm_up
        # A turn that crashes the app is that case's 500, not the end of the run.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://eval") as client:
            return await play_all(client)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The command line; returns the exit code (0 pass, 1 below --min-pass-rate, 2 bad input)."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors are bad input too (code 2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.repeat < 1:
            raise CaseFileError("--repeat", "must be 1 or more")
        case_files = [load_case_file(path) for path in args.files]
        results = asyncio.run(run(args, case_files, out))
    except CaseFileError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except (AgentFileError, ConfigurationError) as exc:  # the service cannot start: say why
        print(f"error: the service cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    summary = summarize(results)
    print(file=out)
    print(table(results), file=out)
    print(summary.line(), file=out, flush=True)
    if args.junit:
        write_junit(args.junit, results)
        print(f"JUnit XML: {args.junit}", file=out, flush=True)
    below = []
    for agent in dict.fromkeys(r.agent for r in results):
        own = summarize([r for r in results if r.agent == agent])
        if len(case_files) > 1:
            print(f"  {agent}: {own.line()}", file=out, flush=True)
        if own.pass_rate < args.min_pass_rate:
            below.append(agent)
    if below:
        print(f"below --min-pass-rate {args.min_pass_rate:g}: {', '.join(below)}", file=out,
              flush=True)
    return 0 if summary.total and not below else 1
