"""Test your own agent: play case files (`python -m agent_session.eval FILE...`) against the
service in process or at a URL; see the README, "Test your own agent". The service is imported
only when played in process, so that `--url` and the tests need none of it."""

from .cases import AgentInfo, Case, CaseFile, CaseFileError, Expect, check_against, load_case_file
from .cli import main
from .player import CaseResult, evaluate, play, play_case

__all__ = ["AgentInfo", "Case", "CaseFile", "CaseFileError", "CaseResult", "Expect",
           "check_against", "evaluate", "load_case_file", "main", "play", "play_case"]
