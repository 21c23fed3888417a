"""Session lifecycle through HTTP: ownership, busy sessions, expiry, listing, deletion, limits."""

from __future__ import annotations

import asyncio
import logging

from .fakes.scripted_llm import call
from .helpers import observations

ASK = [call("prompt_user", question="Where should the cab pick you up?")]


async def test_get_and_delete_session(harness):
    harness.llm.extend([ASK])
    sid = (await harness.chat("cab", session_id="caller-chosen-1", user_id="u1")).json()[
        "session_id"]
    assert sid == "caller-chosen-1"
    got = (await harness.client.get(f"/session/{sid}")).json()
    assert got["session_id"] == sid and got["user_id"] == "u1"
    assert got["messages"][0] == {"role": "user", "content": "cab",
                                  "at": got["messages"][0]["at"]}
    assert got["messages"][1]["role"] == "assistant"
    assert got["messages"][1]["content"] == "Where should the cab pick you up?"
    assert got["created_at"] <= got["updated_at"] < got["expires_at"]
    assert got["result"] is None

    deleted = await harness.client.delete(f"/session/{sid}")
    assert deleted.status_code == 200 and "deleted" in deleted.json()["message"]
    assert (await harness.client.get(f"/session/{sid}")).status_code == 404
    again = await harness.client.delete(f"/session/{sid}")
    assert again.status_code == 404 and "never existed or has expired" in again.json()["detail"]


async def test_session_of_another_user_is_403_and_untouched(harness):
    harness.llm.extend([ASK])
    sid = (await harness.chat("cab", user_id="alice")).json()["session_id"]
    before = (await harness.client.get(f"/session/{sid}")).json()
    for intruder in ("mallory", None):
        response = await harness.chat("show me", session_id=sid, user_id=intruder)
        assert response.status_code == 403
        assert response.json() == {"detail": "This session belongs to another user."}
    assert (await harness.client.get(f"/session/{sid}")).json() == before
    assert harness.llm.remaining == 0 and len(harness.llm.requests) == 1


async def test_anonymous_session_has_no_user_for_saved_addresses(harness):
    seen = {}

    def after(request):
        seen["obs"] = observations(request, "get_user_address")[0]
        seen["prompt"] = request.system_prompt
        return ASK

    harness.llm.extend([[call("get_user_address", user_id="12345", address_type="home")], after])
    sid = (await harness.chat("from my home")).json()["session_id"]
    assert "No user is known" in seen["obs"]["error"]
    assert "No user is known" in seen["prompt"]
    # Anyone holding the id may continue an anonymous session.
    harness.llm.extend([ASK])
    assert (await harness.chat("hi", session_id=sid, user_id="bob")).status_code == 200


async def test_saved_address_is_the_session_owners_whatever_the_model_asks(harness):
    seen = {}

    def after(request):
        seen["obs"] = observations(request, "get_user_address")[0]
        assert "The user's id is 12345." in request.system_prompt
        return ASK

    harness.llm.extend([[call("get_user_address", user_id="67890", address_type="Home")], after])
    await harness.chat("from my home", user_id="12345")
    assert "Elm Street" in seen["obs"]["address"]
    assert "Pine Lane" not in str(seen["obs"])


async def test_second_turn_on_a_busy_session_is_409(harness_factory):
    async with harness_factory(turn_wait_seconds=0.2) as h:
        release = asyncio.Event()

        async def slow(request):
            await release.wait()
            return ASK

        h.llm.extend([slow])
        first = asyncio.create_task(h.chat("cab", session_id="busy-1"))
        await asyncio.sleep(0.05)
        second = await h.chat("hello?", session_id="busy-1")
        assert second.status_code == 409
        assert "Another turn is still running" in second.json()["detail"]
        release.set()
        assert (await first).json()["status_code"] == "201"
        stored = (await h.client.get("/session/busy-1")).json()
        assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["cab"]


async def test_waiting_turns_run_one_after_another(harness_factory):
    async with harness_factory(turn_wait_seconds=5) as h:
        h.llm.extend([ASK] * 5)
        results = await asyncio.gather(*(h.chat(f"turn {i}", session_id="queue-1")
                                         for i in range(5)))
        assert all(r.status_code == 200 for r in results)
        stored = (await h.client.get("/session/queue-1")).json()
        contents = [m["content"] for m in stored["messages"] if m["role"] == "user"]
        assert sorted(contents) == [f"turn {i}" for i in range(5)]
        roles = [m["role"] for m in stored["messages"]]
        assert roles == ["user", "assistant"] * 5


async def test_sessions_expire_after_idle_ttl_and_are_swept(harness_factory):
    async with harness_factory(session_ttl_seconds=60) as h:
        h.llm.extend([ASK, ASK, ASK])
        sid = (await h.chat("cab", user_id="alice")).json()["session_id"]
        h.clock.advance(50)
        await h.chat("still here", session_id=sid, user_id="alice")  # refreshes the TTL
        h.clock.advance(50)
        assert (await h.client.get(f"/session/{sid}")).status_code == 200
        h.clock.advance(11)
        assert (await h.client.get(f"/session/{sid}")).status_code == 404
        assert await h.services.manager.sweep_once() == 1
        # An expired id starts afresh, even for another user.
        fresh = await h.chat("new start", session_id=sid, user_id="bob")
        assert fresh.status_code == 200
        stored = (await h.client.get(f"/session/{sid}")).json()
        assert stored["user_id"] == "bob" and len(stored["messages"]) == 2


async def test_background_sweeper_removes_expired_sessions(harness_factory, caplog):
    async with harness_factory(session_ttl_seconds=0.4, turn_timeout_seconds=0.3) as h:
        h.llm.extend([ASK])
        await h.chat("cab", session_id="sweep-me")
        h.clock.advance(1)
        with caplog.at_level(logging.INFO, logger="agent_session.session_manager"):
            for _ in range(100):
                await asyncio.sleep(0.05)
                if "expired 1 sessions" in caplog.text:
                    break
        assert "expired 1 sessions" in caplog.text  # the background sweep removed it
        assert await h.services.store.delete_expired() == 0  # nothing left for a sweep


async def test_list_sessions_newest_first_with_cursor(harness):
    harness.llm.extend([ASK] * 5)
    for i in range(4):
        await harness.chat(f"q{i}", session_id=f"s{i}", user_id="lister")
        harness.clock.advance(1)
    await harness.chat("other", session_id="x", user_id="someone-else")
    page = (await harness.client.get("/sessions", params={"user_id": "lister",
                                                          "limit": 3})).json()
    assert [s["session_id"] for s in page["sessions"]] == ["s3", "s2", "s1"]
    assert page["sessions"][0]["message_count"] == 2
    rest = (await harness.client.get("/sessions", params={
        "user_id": "lister", "limit": 3, "cursor": page["next_cursor"]})).json()
    assert [s["session_id"] for s in rest["sessions"]] == ["s0"]
    assert rest["next_cursor"] is None
    bad = await harness.client.get("/sessions", params={"cursor": "garbage!"})
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]


async def test_history_is_trimmed_by_whole_turns(harness_factory):
    async with harness_factory(session_max_messages=6) as h:
        h.llm.extend([ASK] * 5)
        for i in range(5):
            await h.chat(f"turn {i}", session_id="long")
        stored = (await h.client.get("/session/long")).json()
        assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == [
            "turn 2", "turn 3", "turn 4"]
        assert stored["messages"][0]["role"] == "user"
