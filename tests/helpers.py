"""Helpers for reading what the agent loop showed the scripted model."""

from __future__ import annotations

from typing import Any

from agent_session.events import ActionStep
from agent_session.llm.base import LLMRequest


def observations(request: LLMRequest, name: str) -> list[dict[str, Any]]:
    """Every observation of action `name` the model has seen so far in this request."""
    return [m.observation for m in request.messages
            if isinstance(m, ActionStep) and m.name == name]


def last_observation(request: LLMRequest) -> dict[str, Any]:
    tools = [m for m in request.messages if isinstance(m, ActionStep)]
    assert tools, "the model has seen no observation yet"
    return tools[-1].observation
