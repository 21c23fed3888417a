"""`python -m agent_session.eval` as CI runs it: `main(argv)` against the fake agent service
over real HTTP (--url), its exit codes, its output and its JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from junitparser import JUnitXml

from agent_session.eval import main

from .test_eval_fake import CASES_YAML, FAILING_YAML, OLD_FORMAT_JSON, served


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with served() as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """The fake counts days in UTC; +Nd is counted in the local TIMEZONE setting."""
    monkeypatch.setenv("TIMEZONE", "UTC")


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    paths = {"cases": tmp_path / "restaurant.cases.yaml", "failing": tmp_path / "failing.yaml",
             "old": tmp_path / "cab_old.json"}
    for key, text in [("cases", CASES_YAML), ("failing", FAILING_YAML),
                      ("old", OLD_FORMAT_JSON)]:
        paths[key].write_text(text, encoding="utf-8")
    return paths


def test_all_pass_exit_0(url, files, capsys):
    assert main([str(files["cases"]), "--url", url]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\[1/5\] PASS p01-step-by-step 7 turns \d+\.\d s 7 calls$", out, re.M)
    assert re.search(r"^\[5/5\] PASS p05-cancelled 2 turns", out, re.M)
    header = next(line for line in out.splitlines() if line.startswith("case "))
    assert header.split() == ["case", "result", "first", "problem", "turns", "seconds", "calls"]
    assert re.search(r"^pass rate 5/5 = 1\.00; seconds per conversation: median \d+\.\d, "
                     r"p95 \d+\.\d; model calls per user turn: 1\.00$", out, re.M)
    assert "\r" not in out  # captured output is not a terminal: no progress bar


def test_failures_exit_1_and_junit(url, files, tmp_path, capsys):
    junit = tmp_path / "reports" / "eval.xml"
    code = main([str(files["cases"]), str(files["failing"]), "--url", url, "--junit", str(junit),
                 "-v"])
    assert code == 1
    out = capsys.readouterr().out
    assert re.search(r"^\[6/13\] FAIL f01-value 2 turns", out, re.M)
    assert '    name: got "Bo", expected "Bob"' in out
    assert "      | user: guests=2 date=today" in out  # -v: the transcript of a failure
    assert re.search(r"^failing\.yaml:f01-value\s+FAIL\s+name: got \"Bo\", expected \"Bob\"\s+"
                     r"2\s+\d+\.\d\s+2$", out, re.M)
    assert "pass rate 5/13 = 0.38" in out

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("13", "8")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(files["cases"]), str(files["failing"])]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("5", "0"), ("8", "8")]
    passing = suites[0].findall("testcase")
    assert [c.get("name") for c in passing][:2] == ["p01-step-by-step", "p02-all-in-one"]
    assert all(c.find("failure") is None and c.find("system-out") is None for c in passing)
    failed = {c.get("name"): c for c in suites[1].findall("testcase")}
    assert failed["f05-outcome"].get("classname") == "restaurant"
    failure = failed["f05-outcome"].find("failure")
    assert failure is not None
    assert failure.get("message") == "outcome: got final, expected handoff"
    system_out = failed["f05-outcome"].findtext("system-out") or ""
    assert "user: guests=2 date=today" in system_out and "agent (confirm)" in system_out
    assert "actions: check_availability, book_table" in system_out
    assert float(failed["f05-outcome"].get("time") or "x") > 0

    # What a CI system's JUnit reader makes of it.
    report = JUnitXml.fromfile(str(junit))
    assert (report.tests, report.failures, report.errors) == (13, 8, 0)
    read = {case.name: case for suite in report for case in suite}
    assert read["p01-step-by-step"].is_passed
    outcome = read["f05-outcome"]
    assert not outcome.is_passed and outcome.result[0].message == \
        "outcome: got final, expected handoff"
    assert "agent (confirm)" in (outcome.system_out or "")


def test_min_pass_rate(url, files, capsys):
    args = [str(files["cases"]), str(files["failing"]), "--url", url]
    assert main([*args, "--min-pass-rate", "0.35"]) == 0
    assert main([*args, "--min-pass-rate", "0.4"]) == 1


def test_only_and_repeat(url, files, tmp_path, capsys):
    junit = tmp_path / "repeat.xml"
    code = main([str(files["cases"]), str(files["failing"]), "--url", url,
                 "--only", "p02,f03-contains", "--only", "p04", "--repeat", "2",
                 "--junit", str(junit)])
    assert code == 1
    out = capsys.readouterr().out
    names = re.findall(r"^\[\d+/6\] (?:PASS|FAIL) (\S+)", out, re.M)
    assert names == ["p02-all-in-one#1", "p02-all-in-one#2", "p04-handoff#1", "p04-handoff#2",
                     "f03-contains#1", "f03-contains#2"]
    cases = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert cases == names
    assert "pass rate 4/6 = 0.67" in out


def test_old_format_and_agent_override(url, files, capsys):
    assert main([str(files["old"]), "--url", url]) == 0
    assert "[1/1] PASS c01-step-by-step 6 turns" in capsys.readouterr().out
    # The restaurant cases played against the cab agent: its slots do not fit.
    assert main([str(files["cases"]), "--url", url, "--agent", "cab-booking"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {files['cases']}: case p01-step-by-step: replies.guests: "
                          "agent cab-booking has no slot 'guests'")


@pytest.mark.parametrize("args, message", [
    (["--agent", "bistro"], "unknown agent 'bistro' (agents: restaurant, cab-booking)"),
    (["--agent", "Bistro"], "unknown agent 'Bistro' (agents: restaurant, cab-booking)"),
    (["--only", "zz"], "error: --only: no case zz in"),
    (["--repeat", "0"], "error: --repeat: must be 1 or more"),
])
def test_bad_input_exit_2(url, files, capsys, args, message):
    assert main([str(files["cases"]), "--url", url, *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "PASS" not in captured.out  # nothing was played


def test_malformed_file_exit_2(url, tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("agent: restaurant\ncases:\n  - id: a\n", encoding="utf-8")
    assert main([str(path), "--url", url]) == 2
    assert capsys.readouterr().err == f"error: {path}: case a: first: Field required\n"
    assert main(["--url", url]) == 2  # no file: argparse's usage error


def test_api_key(files, capsys):
    with served(api_key="secret") as secured:
        assert main([str(files["cases"]), "--url", secured, "--only", "p02",
                     "--api-key", "secret"]) == 0
        assert main([str(files["cases"]), "--url", secured, "--only", "p02"]) == 2
    assert "HTTP 401" in capsys.readouterr().err


def test_unreachable_service_exit_2(files, capsys):
    assert main([str(files["cases"]), "--url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the service at http://127.0.0.1:9" in capsys.readouterr().err


def test_an_agent_file_the_service_cannot_load_exit_2(files, tmp_path, monkeypatch, capsys):
    """In process (no --url): the agent file is wrong, so the service cannot start; the
    command says why in one line, not a traceback."""
    agent = tmp_path / "broken_agent.yaml"
    agent.write_text("name: broken\nform:\n  slots: []\n", encoding="utf-8")
    monkeypatch.setenv("AGENTS", str(agent))
    monkeypatch.setenv("LLM_BACKEND", "none")
    monkeypatch.setenv("LOG_FILE", "")
    assert main([str(files["cases"])]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after the service's own log line, if any
    assert last.startswith("error: the service cannot start: ") and "broken_agent.yaml" in last
    assert "Traceback" not in err
