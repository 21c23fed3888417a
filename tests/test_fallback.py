"""No dead ends: a react turn that runs out of steps, or whose model repeats a refused call,
ends with the agent's fallback question (a "201", stored like any question, outcome `fallback`
in /metrics) instead of a 502."""

from __future__ import annotations

from agent_session.agent.definition import load_definition

from .fakes.scripted_llm import call

FALLBACK = load_definition().fallback_question


def fallback_count(metrics_text: str) -> float:
    line = next(x for x in metrics_text.splitlines()
                if x.startswith('agent_turns_total{outcome="fallback"}'))
    return float(line.split()[-1])


async def test_running_out_of_steps_asks_the_fallback_question(harness_factory):
    async with harness_factory(max_iterations=3) as h:
        h.llm.extend([[call("search_places", text_query=f"place {i}")] for i in range(3)])
        response = await h.chat("MG Road", user_id="12345")
        body = response.json()
        assert response.status_code == 200
        assert (body["status_code"], body["query"]) == ("201", FALLBACK)
        stored = (await h.client.get(f"/session/{body['session_id']}")).json()["messages"]
        assert [m["role"] for m in stored] == ["user", "tool", "tool", "tool", "assistant"]
        assert stored[-1]["content"] == FALLBACK
        assert fallback_count((await h.client.get("/metrics")).text) == 1
        # The conversation goes on from there.
        h.llm.extend([[call("prompt_user", question="Where are you going?")]])
        again = await h.chat("from MG Road", session_id=body["session_id"], user_id="12345")
        assert again.json()["query"] == "Where are you going?"


async def test_a_model_that_loops_on_one_call_falls_back_without_using_every_step(
        harness_factory):
    """Like real models fed a nonsense query: the same search again and again. The repeat is
    refused once; repeating the refused call ends the turn."""
    async with harness_factory(max_iterations=10) as h:
        looping = [[call("search_places", text_query="qwxz")] for _ in range(10)]
        h.llm.extend(looping)
        body = (await h.chat("qwxz")).json()
        assert (body["status_code"], body["query"]) == ("201", FALLBACK)
        assert h.llm.remaining == 7  # ran, refused as a repeat, then fell back
        tools = [m for m in (await h.client.get(f"/session/{body['session_id']}")).json()[
            "messages"] if m["role"] == "tool"]
        assert len(tools) == 2 and "already called" in tools[1]["observation"]["error"]


async def test_an_invalid_call_repeated_falls_back(harness):
    harness.llm.extend([[call("no_such_action", x=1)], [call("no_such_action", x=1)]])
    body = (await harness.chat("hello")).json()
    assert (body["status_code"], body["query"]) == ("201", FALLBACK)
    assert harness.llm.remaining == 0
