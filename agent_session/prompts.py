"""System prompt rendering: the agent definition's template filled with the turn's context and
the action list taken from the registry (never a hand-written copy)."""

from __future__ import annotations

from datetime import date
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from .agent.actions import ActionContext, ActionRegistry
from .agent.definition import AgentDefinition


def _describe_type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "|".join(map(str, schema["enum"]))
    if "anyOf" in schema:
        return " or ".join(_describe_type(s) for s in schema["anyOf"])
    return str(schema.get("type", "any"))


def _describe_param(name: str, schema: dict[str, Any]) -> str:
    text = f"{name}: {_describe_type(schema)}"
    return f"{text} ({schema['description']})" if schema.get("description") else text


def describe_actions(registry: ActionRegistry) -> str:
    """One line per action: `name(arg: type, ...): description`."""
    lines = []
    for spec in registry.specs():
        params = spec["parameters"].get("properties", {})
        args = ", ".join(_describe_param(name, schema) for name, schema in params.items())
        lines.append(f"- {spec['name']}({args}): {spec['description']}")
    return "\n".join(lines)


class SystemPrompt:
    """The agent's template with its action list rendered once (the registry does not change);
    the rest depends only on the user and the local date, so each (user, day) renders once."""

    CACHE_SIZE = 1024

    def __init__(self, definition: AgentDefinition, registry: ActionRegistry,
                 tz: ZoneInfo) -> None:
        self._template = Template(definition.system_prompt)
        self._description = definition.description or ""
        self._actions = describe_actions(registry)
        self._tz = tz
        self._cache: dict[tuple[str | None, date], str] = {}

    def __call__(self, ctx: ActionContext) -> str:
        day = ctx.now.astimezone(self._tz).date()
        key = (ctx.user_id, day)
        prompt = self._cache.get(key)
        if prompt is None:
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            prompt = self._cache[key] = self._render(ctx.user_id, day)
        return prompt

    def _render(self, user_id: str | None, day: date) -> str:
        user = (f"The user's id is {user_id}." if user_id is not None
                else "No user is known for this session: saved addresses are not available.")
        return self._template.safe_substitute(
            user=user, today=day.strftime("%A %Y-%m-%d"), timezone=str(self._tz),
            actions=self._actions, description=self._description,
        ).strip()
