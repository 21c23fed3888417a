"""Actions the model may call: a registry of named actions with validated arguments.

An action's JSON schema is what the model is shown and what its arguments are checked against
before anything runs. Model output is only ever parsed as JSON and validated; never executed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ValidationError

Ending = Literal["question", "final"]


class ActionArgumentsError(ValueError):
    """The model's arguments do not fit the action; the message is shown to the model."""


@dataclass(frozen=True)
class ActionContext:
    """What an action may know about the turn. `user_id` is the session's owner, never a value
    the model chose."""

    session_id: str
    user_id: str | None
    now: datetime


Runner = Callable[[dict[str, Any], ActionContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    parameters: dict[str, Any]
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    run: Runner | None = None
    ends_turn: Ending | None = None

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles: they cost prompt tokens and tell the model nothing."""
    if isinstance(schema, dict):
        return {k: _clean_schema(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


def pydantic_action(
    name: str,
    description: str,
    model: type[BaseModel],
    run: Callable[[Any, ActionContext], Awaitable[dict[str, Any]]] | None = None,
    ends_turn: Ending | None = None,
) -> Action:
    """An action whose arguments are a pydantic model; `run` receives the validated model."""

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return model.model_validate(arguments).model_dump()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ActionArgumentsError(problems) from None

    runner: Runner | None = None
    if run is not None:

        async def runner(arguments: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
            return await run(model.model_validate(arguments), ctx)

    return Action(name, description, _clean_schema(model.model_json_schema()), validate, runner,
                  ends_turn)


def schema_action(
    name: str, description: str, schema: dict[str, Any], ends_turn: Ending | None = None
) -> Action:
    """An action whose arguments are checked against a JSON schema (e.g. an agent's result)."""
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            raise ActionArgumentsError(
                "; ".join(f"{'.'.join(map(str, e.path)) or 'arguments'}: {e.message}"
                          for e in errors)
            )
        return dict(arguments)

    return Action(name, description, schema, validate, None, ends_turn)


class ActionRegistry:
    def __init__(self, actions: Iterable[Action]) -> None:
        self._actions: dict[str, Action] = {}
        for action in actions:
            if action.name in self._actions:
                raise ValueError(f"Action {action.name!r} is registered twice.")
            self._actions[action.name] = action
        self._specs = [action.spec() for action in self._actions.values()]

    def get(self, name: str) -> Action | None:
        return self._actions.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._actions)

    def specs(self) -> list[dict[str, Any]]:
        """The actions' specs, built once (the registry never changes): read-only."""
        return self._specs

    def select(self, names: Iterable[str]) -> ActionRegistry:
        """The registry restricted to `names`, in that order (an agent's enabled actions)."""
        missing = [n for n in names if n not in self._actions]
        if missing:
            raise ValueError(f"Unknown actions in the agent definition: {', '.join(missing)}.")
        return ActionRegistry(self._actions[n] for n in names)


def parse_arguments(raw: dict[str, Any] | str) -> dict[str, Any]:
    """The model's arguments as a dict: JSON-decoded if a string, never evaluated."""
    if isinstance(raw, dict):
        return raw
    text = raw.strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ActionArgumentsError(f"arguments are not valid JSON ({exc.msg}).") from None
    if not isinstance(value, dict):
        raise ActionArgumentsError("arguments must be a JSON object.")
    return value
