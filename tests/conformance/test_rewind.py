"""Session control on every store: rewind (the next turn continues as if the removed turns
never happened, also with a confirmation pending) and the transcript."""

from __future__ import annotations

from pathlib import Path

from agent_session.main import create_app
from agent_session.services import Overrides

from ..conftest import make_settings, running
from ..fakes.scripted_llm import ScriptedLLM

TABLES = str(Path(__file__).resolve().parents[1] / "agents" / "tables.yaml")


async def say(client, llm: ScriptedLLM, query: str, extracted: dict | None) -> dict:
    if extracted is not None:
        llm.extend([extracted])
    response = await client.post("/chat", json={"session_id": "r1", "query": query})
    assert response.status_code == 200, response.text
    return response.json()


async def test_rewind_one_and_two_turns_then_go_on(store, clock):
    llm = ScriptedLLM()
    app = create_app(make_settings(agent_file=TABLES, agent_strategy="form"),
                     Overrides(llm=llm, store=store, clock=clock))
    async with running(app) as client:
        await say(client, llm, "a table for six tomorrow at 8 pm",
                  {"guests": "six", "date": "tomorrow", "time": "8 pm"})
        await say(client, llm, "Sam Lee", {"name": "Sam Lee"})
        confirm = await say(client, llm, "inside", None)
        assert confirm["outcome"] == "confirm"
        await say(client, llm, "yes", None)  # booked

        one = await client.post("/session/r1/rewind", json={"turns": 1})
        assert one.status_code == 200 and one.json()["result"] is None
        assert [m["content"] for m in one.json()["messages"] if m["role"] == "user"] == [
            "a table for six tomorrow at 8 pm", "Sam Lee", "inside"]
        # The confirmation is pending again: a change reads it back, then yes books it.
        changed = await say(client, llm, "make it 9 pm", {"time": "9 pm"})
        assert changed["outcome"] == "confirm" and "at 21:00" in changed["query"]

        two = await client.post("/session/r1/rewind", json={"turns": 2})
        assert two.status_code == 200
        assert [m["content"] for m in two.json()["messages"] if m["role"] == "user"] == [
            "a table for six tomorrow at 8 pm", "Sam Lee"]
        again = await say(client, llm, "on the patio", None)  # the seating question again
        assert again["outcome"] == "confirm" and "seating patio" in again["query"]
        booked = await say(client, llm, "yes", None)
        assert booked["final_response"]["time"] == "20:00"  # the 9 pm was rewound away

        transcript = await client.get("/session/r1/transcript")
        assert transcript.headers["content-type"].startswith("text/plain")
        lines = transcript.text.splitlines()
        assert lines[0] == "user: a table for six tomorrow at 8 pm"
        assert lines[1] == "agent: Under what name?"
        assert lines[-1].startswith("agent: Done.") and "seating: patio" in lines[-1]
        assert all(line.startswith(("user: ", "agent: ")) for line in lines)

        assert (await client.post("/session/r1/rewind", json={"turns": 99})).status_code == 422
        assert (await client.post("/session/r1/rewind", json={"turns": 0})).status_code == 422
        assert (await client.post("/session/nope/rewind")).status_code == 404
        assert (await client.get("/session/nope/transcript")).status_code == 404


async def test_rewind_waits_for_no_turn(store, clock):
    """While a turn holds the session, a rewind answers 409 at once."""
    async with store.turn("busy-1", 1) as held:
        assert held.session is None
        app = create_app(make_settings(agent_file=TABLES), Overrides(
            llm=ScriptedLLM(), store=store, clock=clock))
        async with running(app) as client:
            response = await client.post("/session/busy-1/rewind")
            assert response.status_code == 409
