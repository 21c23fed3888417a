"""Helpers for reading what the agent loop showed the scripted model, and for serving an agent
file written by a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
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


@asynccontextmanager
async def form_agent(harness_factory: Callable[..., Any], tmp_path: Path,
                     text: str) -> AsyncIterator[Any]:
    """A harness serving the agent file `text` with the form strategy."""
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    async with harness_factory(agent_file=str(path), agent_strategy="form") as h:
        yield h
