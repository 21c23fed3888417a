"""An agent's own actions: Python functions its file names by import path
(`package.module:function`), loaded once at start-up, so a missing one stops the service with
a clear error instead of failing a turn later."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from typing import Any

from ..errors import ConfigurationError
from .actions import Action, ActionContext, schema_action
from .definition import AgentDefinition, CustomAction


class AgentFileError(ConfigurationError):
    """The agent file names something that cannot be used; the message says what."""


def load_function(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentFileError(f"The agent file names {path!r}, but module {module_name!r} "
                             f"cannot be imported: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise AgentFileError(f"The agent file names {path!r}, but {module_name!r} has no "
                             f"function {attribute!r}.")
    return function


def custom_action(spec: CustomAction) -> Action:
    function = load_function(spec.function)
    checked = schema_action(spec.name, spec.description, spec.parameters)

    async def run(arguments: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        if inspect.iscoroutinefunction(function):
            result = await function(arguments, ctx)
        else:  # a plain function may block: keep it off the event loop
            result = await asyncio.to_thread(function, arguments, ctx)
        if not isinstance(result, dict):
            return {"error": f"{spec.name} returned {type(result).__name__}, not an object."}
        return result

    return Action(spec.name, spec.description, checked.parameters, checked.validate, run)


def build_custom_actions(definition: AgentDefinition) -> list[Action]:
    return [custom_action(spec) for spec in definition.custom_actions]
