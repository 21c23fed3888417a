"""Whole turns through `POST /chat` with a scripted model: booking, recovery, guards, errors."""

from __future__ import annotations

import asyncio

from agent_session.errors import LLMBadResponse, LLMTimeout, LLMUnavailable
from agent_session.llm.base import ActionCall, LLMReply

from .fakes.scripted_llm import call
from .helpers import last_observation, observations


def booking_script():
    """Turn 1 resolves both places and the date, then asks for the time; turn 2 finishes."""

    def ask_time(request):
        places = observations(request, "search_places")
        assert [p["places"][0]["name"] for p in places] == ["MG Road", "Koramangala"]
        assert observations(request, "get_booking_date")[0]["time"] is None
        return [call("prompt_user", question="What time should the cab pick you up?")]

    def finish(request):
        places = observations(request, "search_places")
        resolved = observations(request, "get_booking_date")[-1]
        return [call("final_answer", pickup_location=places[0]["places"][0]["address"],
                     destination=places[1]["places"][0]["address"], date=resolved["date"],
                     time=resolved["time"], preferences="sedan")]

    return [
        [call("search_places", text_query="MG Road"),
         call("search_places", text_query="Koramangala")],
        [call("get_booking_date", user_input="tomorrow")],
        ask_time,
        [call("get_booking_date", user_input="tomorrow at 9am")],
        finish,
    ]


async def test_booking_asks_for_missing_time_then_finishes(harness):
    harness.llm.extend(booking_script())
    first = await harness.chat("I need a cab from MG Road to Koramangala tomorrow, sedan please",
                               user_id="12345")
    assert first.status_code == 200
    body = first.json()
    assert body["status_code"] == "201"
    assert body["query"] == "What time should the cab pick you up?"
    assert body["final_response"] == {} and body["error"] is None
    session_id = body["session_id"]

    second = await harness.chat("9am", session_id=session_id, user_id="12345")
    result = second.json()
    assert result["status_code"] == "200" and result["query"] == ""
    # The fake clock is 2026-11-25 10:00 UTC, so "tomorrow" in Asia/Kolkata is the 26th.
    assert result["final_response"] == {
        "pickup_location": "MG Road, Bengaluru, India",
        "destination": "Koramangala, Bengaluru, India",
        "date": "2026-11-26", "time": "09:00", "preferences": "sedan",
    }
    stored = (await harness.client.get(f"/session/{session_id}")).json()
    roles = [(m["role"], m.get("name")) for m in stored["messages"]]
    assert roles == [
        ("user", None), ("tool", "search_places"), ("tool", "search_places"),
        ("tool", "get_booking_date"), ("assistant", None),
        ("user", None), ("tool", "get_booking_date"), ("assistant", None),
    ]
    users = [m["content"] for m in stored["messages"] if m["role"] == "user"]
    assert users == ["I need a cab from MG Road to Koramangala tomorrow, sedan please", "9am"]
    assert stored["result"] == result["final_response"]
    assert stored["user_id"] == "12345"


async def test_session_goes_on_after_a_result(harness):
    harness.llm.extend([
        [call("final_answer", pickup_location="A", destination="B", date="2026-11-26",
              time="10:00", preferences="any")],
        [call("prompt_user", question="Where should the next cab pick you up?")],
    ])
    first = (await harness.chat("book it")).json()
    second = (await harness.chat("another one please", session_id=first["session_id"])).json()
    assert second["status_code"] == "201"
    # The model saw the earlier turn's history in the new task.
    history = harness.llm.requests[-1].messages
    assert [m.content for m in history if m.role == "user"] == ["book it",
                                                                      "another one please"]


async def test_invalid_actions_become_corrective_observations(harness):
    seen = []

    def after_unknown(request):
        seen.append(last_observation(request))
        return [ActionCall("search_places", '{"text_query": ')]  # broken JSON

    def after_broken(request):
        seen.append(last_observation(request))
        return [call("search_places", query="MG Road")]  # wrong argument name

    def after_invalid(request):
        seen.append(last_observation(request))
        return LLMReply(actions=[], text="Sure! Where do you want to go?")

    def after_text(request):
        seen.append(last_observation(request))
        return [call("final_answer", pickup_location="MG Road", destination="Koramangala",
                     date="2026-13-45", time="25:00", preferences="sedan")]

    def after_bad_final(request):
        seen.append(last_observation(request))
        return [call("prompt_user", question="Where to?")]

    harness.llm.extend([[call("book_cab", where="x")], after_unknown, after_broken, after_invalid,
                        after_text, after_bad_final])
    body = (await harness.chat("cab please")).json()
    assert body["status_code"] == "201" and body["query"] == "Where to?"
    assert "no action named 'book_cab'" in seen[0]["error"]
    assert "search_places" in seen[0]["error"]
    assert "not valid JSON" in seen[1]["error"]
    assert "text_query" in seen[2]["error"]
    assert "not text" in seen[3]["error"]
    assert "date" in seen[4]["error"] and "time" in seen[4]["error"]


async def test_repeated_call_is_flagged_with_the_previous_result(harness):
    captured = {}

    def repeat_again(request):
        captured["obs"] = last_observation(request)
        return [call("prompt_user", question="Which MG Road?")]

    harness.llm.extend([[call("search_places", text_query="MG Road")],
                        [call("search_places", text_query="MG Road")], repeat_again])
    body = (await harness.chat("MG Road")).json()
    assert body["status_code"] == "201"
    assert "already called search_places" in captured["obs"]["error"]
    assert captured["obs"]["previous_result"]["places"][0]["name"] == "MG Road"


async def test_llm_failures_map_to_contract_statuses_and_change_nothing(harness):
    harness.llm.extend([[call("prompt_user", question="Where from?")]])
    sid = (await harness.chat("cab")).json()["session_id"]
    before = (await harness.client.get(f"/session/{sid}")).json()
    for error, status in [(LLMUnavailable("watsonx is unreachable"), 503),
                          (LLMTimeout("too slow"), 504),
                          (LLMBadResponse("garbage"), 502)]:
        harness.llm.extend([error])
        response = await harness.chat("MG Road", session_id=sid)
        assert response.status_code == status
        assert response.json() == {"detail": error.detail}
    assert (await harness.client.get(f"/session/{sid}")).json() == before


async def test_llm_deadline_gives_504(harness_factory):
    async with harness_factory(llm_timeout_seconds=0.1) as h:
        async def slow(request):
            await asyncio.sleep(5)

        h.llm.extend([slow])
        response = await h.chat("cab")
        assert response.status_code == 504
        assert "did not answer within 0.1 s" in response.json()["detail"]


async def test_slow_action_times_out_into_an_observation(harness_factory):
    async with harness_factory(action_timeout_seconds=0.05) as h:
        async def hang(text_query, limit=5):
            await asyncio.sleep(5)

        h.services.places.search = hang
        captured = {}

        def after(request):
            captured["obs"] = last_observation(request)
            return [call("prompt_user", question="Where exactly?")]

        h.llm.extend([[call("search_places", text_query="MG Road")], after])
        assert (await h.chat("MG Road")).json()["status_code"] == "201"
        assert "took longer than 0.05 s" in captured["obs"]["error"]


async def test_no_llm_backend_answers_503_and_service_still_serves(harness_factory):
    from agent_session.main import create_app

    from .conftest import make_settings, running

    app = create_app(make_settings(llm_backend="none"))
    async with running(app) as client:
        response = await client.post("/chat", json={"query": "cab"})
        assert response.status_code == 503
        assert "No LLM backend" in response.json()["detail"]
        assert (await client.get("/health")).json() == {"status": "healthy"}
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["llm"] != "ok"
        assert ready.json()["checks"]["session_store"] == "ok"
