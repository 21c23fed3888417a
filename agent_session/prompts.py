"""System prompt rendering: the agent definition's template filled with the turn's context and
the action list taken from the registry (never a hand-written copy)."""

from __future__ import annotations

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
    each turn only fills in the user and the date."""

    def __init__(self, definition: AgentDefinition, registry: ActionRegistry,
                 tz: ZoneInfo) -> None:
        self._template = Template(definition.system_prompt)
        self._actions = describe_actions(registry)
        self._tz = tz

    def __call__(self, ctx: ActionContext) -> str:
        user = (f"The user's id is {ctx.user_id}." if ctx.user_id is not None
                else "No user is known for this session: saved addresses are not available.")
        return self._template.safe_substitute(
            user=user,
            today=ctx.now.astimezone(self._tz).strftime("%A %Y-%m-%d"),
            timezone=str(self._tz),
            actions=self._actions,
        ).strip()
