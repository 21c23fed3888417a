"""One turn budget: each call of a turn gets what is left, capped by its own setting."""

from __future__ import annotations

import asyncio
import math

import pytest

from agent_session import turn_budget
from agent_session.errors import LeaseLost, TurnTimeout
from agent_session.llm.openai_chat import may_retry


def test_left_is_the_smaller_of_the_cap_and_the_turn():
    assert turn_budget.left(30) == 30  # outside a turn: the call's own cap
    with turn_budget.turn_budget(5):
        assert 4.9 < turn_budget.left(30) <= 5
        assert turn_budget.left(2) == 2
        assert turn_budget.left(math.inf) <= 5


def test_check_stops_a_turn_out_of_time_or_without_its_lease():
    with turn_budget.turn_budget(0), pytest.raises(TurnTimeout):
        turn_budget.check()
    held = [True]
    with turn_budget.turn_budget(10, lambda: held[0]):
        turn_budget.check()
        held[0] = False
        with pytest.raises(LeaseLost):
            turn_budget.check()


def test_a_retry_that_cannot_finish_in_time_is_not_started():
    assert may_retry(0, 2, 1.0) and not may_retry(2, 2, 0.1)
    with turn_budget.turn_budget(1.0):
        assert may_retry(0, 2, 0.25)
        assert not may_retry(0, 2, 0.8)  # the wait and a call after it do not fit


async def test_the_budget_reaches_threads_and_tasks():
    with turn_budget.turn_budget(3):
        in_thread = await asyncio.to_thread(turn_budget.left, 60)
        in_task = await asyncio.create_task(asyncio.sleep(0, turn_budget.left(60)))
    assert 2.5 < in_thread <= 3 and 2.5 < in_task <= 3


async def test_a_model_call_gets_what_is_left_of_the_turn(harness_factory):
    """LLM_TIMEOUT_SECONDS (30) is more than the turn has: the call is cut at the turn's
    deadline and answers 504, with the session unchanged."""
    async with harness_factory(agent_strategy="form", turn_timeout_seconds=0.3,
                               llm_timeout_seconds=30) as h:
        async def slow(request):
            await asyncio.sleep(5)
            return {}

        h.llm.extend([slow])
        response = await h.chat("hello", session_id="b1")
        assert response.status_code == 504
        assert (await h.client.get("/session/b1")).status_code == 404


def test_the_chat_rendering_refuses_what_is_not_an_event():
    from agent_session.events import UserMessage
    from agent_session.llm.messages import to_chat_messages

    rendered = to_chat_messages("sys", [UserMessage(content="hi")], "native")
    assert rendered == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    with pytest.raises(TypeError, match="dict"):
        to_chat_messages("sys", [{"role": "user", "content": "hi"}], "native")  # type: ignore[list-item]
