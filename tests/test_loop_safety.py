"""Model output is data: code in arguments is never run, and unknown or hostile calls are
answered with observations."""

from __future__ import annotations

from agent_session.llm.base import ActionCall

from .fakes.scripted_llm import call
from .helpers import last_observation


async def test_injection_attempts_in_a_turn_run_nothing(harness, tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    seen = []

    def check(request):
        seen.append(last_observation(request))
        return [call("prompt_user", question="Where from?")]

    harness.llm.extend([
        [ActionCall("search_places", payload)],
        check,
        # Valid JSON whose value is code: it is only ever a search string.
        [call("search_places", text_query=payload)],
        check,
        [ActionCall("__import__('os').system('id')", {})],
        check,
    ])
    for _ in range(3):
        assert (await harness.chat("cab", session_id="inject")).status_code == 200
    assert not marker.exists()
    assert "not valid JSON" in seen[0]["error"]
    assert seen[1] == {"places": [], "note": seen[1]["note"]}
    assert "no action named" in seen[2]["error"]
