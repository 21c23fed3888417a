"""What a run prints (progress, the table, the summary) and writes (JUnit XML for CI)."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .player import CaseResult

PROBLEM_WIDTH = 60


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile (the benchmarks' definition)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Summary:
    passed: int
    total: int
    median_seconds: float
    p95_seconds: float
    calls_per_turn: float | None  # None: no case's model calls were known

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def line(self) -> str:
        calls = "-" if self.calls_per_turn is None else f"{self.calls_per_turn:.2f}"
        return (f"pass rate {self.passed}/{self.total} = {self.pass_rate:.2f}; seconds per "
                f"conversation: median {self.median_seconds:.1f}, p95 {self.p95_seconds:.1f}; "
                f"model calls per user turn: {calls}")


def summarize(results: Sequence[CaseResult]) -> Summary:
    seconds = [r.seconds for r in results]
    known = [r for r in results if r.model_calls is not None]
    turns = sum(r.turns for r in known)
    return Summary(passed=sum(r.passed for r in results), total=len(results),
                   median_seconds=statistics.median(seconds) if seconds else 0.0,
                   p95_seconds=p95(seconds),
                   calls_per_turn=(sum(r.model_calls or 0 for r in known) / turns)
                   if known and turns else None)


def _calls(result: CaseResult) -> str:
    return "-" if result.model_calls is None else str(result.model_calls)


def verdict(result: CaseResult) -> str:
    return "PASS" if result.passed else "FAIL"


def progress_line(index: int, total: int, result: CaseResult) -> str:
    """`[3/14] PASS c03-home-to-office 4 turns 5.2 s 4 calls`."""
    return (f"[{index + 1}/{total}] {verdict(result)} {result.name} {result.turns} turns "
            f"{result.seconds:.1f} s {_calls(result)} calls")


def progress_bar(done: int, total: int, playing: str, width: int = 24) -> str:
    """One terminal line, redrawn in place with \\r while a case plays."""
    filled = round(width * done / total) if total else width
    return f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {done}/{total} playing {playing}"


def label(result: CaseResult, several_files: bool) -> str:
    return f"{Path(result.source).name}:{result.name}" if several_files else result.name


def table(results: Sequence[CaseResult]) -> str:
    """Case, verdict, first problem, turns, seconds, model calls: one row per play."""
    several = len({r.source for r in results}) > 1
    rows = [("case", "result", "first problem", "turns", "seconds", "calls")]
    for r in results:
        problem = r.problems[0] if r.problems else ""
        if len(problem) > PROBLEM_WIDTH:
            problem = problem[:PROBLEM_WIDTH - 1] + "…"
        rows.append((label(r, several), verdict(r), problem, str(r.turns), f"{r.seconds:.1f}",
                     _calls(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {3, 4, 5}
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_junit(path: str | Path, results: Sequence[CaseResult]) -> None:
    """JUnit XML: one testsuite per case file, one testcase per play, the problems in
    `failure` and the transcript of a failed play in its `system-out`."""
    by_file: dict[str, list[CaseResult]] = {}
    for r in results:
        by_file.setdefault(r.source, []).append(r)
    root = ET.Element("testsuites", name="agent_session.eval", tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)), errors="0",
                      time=f"{sum(r.seconds for r in results):.3f}")
    for source, plays in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=source, tests=str(len(plays)),
                              failures=str(sum(not r.passed for r in plays)), errors="0",
                              skipped="0", time=f"{sum(r.seconds for r in plays):.3f}")
        for r in plays:
            case = ET.SubElement(suite, "testcase", name=r.name, classname=r.agent,
                                 time=f"{r.seconds:.3f}")
            if r.passed:
                continue
            failure = ET.SubElement(case, "failure", message=r.problems[0], type="AssertionError")
            failure.text = "\n".join(r.problems)
            out = ET.SubElement(case, "system-out")
            out.text = r.transcript_text() + f"\nturns: {r.turns}, seconds: {r.seconds:.1f}, " \
                                             f"model calls: {_calls(r)}"
    ET.indent(root)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class Progress:
    """Per-case lines as cases finish, and a bar redrawn in place when `out` is a terminal."""

    def __init__(self, out: TextIO, verbose: bool = False):
        self.out, self.verbose = out, verbose
        self.tty = out.isatty()

    def start(self, index: int, total: int, name: str) -> None:
        if self.tty:
            self.out.write(progress_bar(index, total, name))
            self.out.flush()

    def result(self, index: int, total: int, result: CaseResult) -> None:
        if self.tty:
            self.out.write("\r\033[K")
        print(progress_line(index, total, result), file=self.out, flush=True)
        if not result.passed:
            for problem in result.problems:
                print(f"    {problem}", file=self.out)
            if self.verbose:
                for line in result.transcript_text().splitlines():
                    print(f"      | {line}", file=self.out)
        self.out.flush()
