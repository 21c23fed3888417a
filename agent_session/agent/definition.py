"""Agent definitions: the prompt, the enabled actions, the result schema and, for the `form`
strategy, the slots, from a file.

The bundled cab agent lives in `data/cab_agent.yaml`; `AGENT_FILE` (YAML or JSON) replaces it.
An action is either one the service provides (named by a string) or the agent's own: a Python
function named by import path, loaded at start-up (`custom_actions.py`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml
from pydantic import BaseModel, Field, model_validator

from .actions import Action, pydantic_action, schema_action
from .slots import FormSpec


class CustomAction(BaseModel):
    """An action of the agent's own: `function` is `package.module:function`, an async (or
    plain) function `(arguments: dict, ctx: ActionContext) -> dict`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    description: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class AgentDefinition(BaseModel):
    name: str
    system_prompt: str = Field(min_length=1)
    actions: list[str | CustomAction]
    result_schema: dict[str, Any]
    result_description: str = "Return the finished result."
    result_speech: str | None = None
    fallback_question: str = Field(
        "Sorry, I couldn't work that out. Could you say it another way?", min_length=1,
        max_length=500)
    form: FormSpec | None = None

    @model_validator(mode="after")
    def _slots_are_result_fields(self) -> AgentDefinition:
        if self.form is None:
            return self
        fields = set(self.result_schema.get("properties", {}))
        slots = [slot.name for slot in self.form.slots]
        stray = [name for name in slots if name not in fields]
        if stray:
            raise ValueError(f"form slots that are not result fields: {', '.join(stray)}")
        unfilled = [f for f in self.result_schema.get("required", []) if f not in slots]
        if unfilled:
            raise ValueError(f"required result fields without a slot: {', '.join(unfilled)}")
        known = set(self.action_names)
        for slot in self.form.slots:
            for rule in slot.resolve:
                if rule.action not in known:
                    raise ValueError(f"slot {slot.name} resolves with {rule.action!r}, which "
                                     "is not among the agent's actions")
        return self

    @property
    def action_names(self) -> list[str]:
        return [a if isinstance(a, str) else a.name for a in self.actions]

    @property
    def custom_actions(self) -> list[CustomAction]:
        return [a for a in self.actions if isinstance(a, CustomAction)]

    def speak_result(self, result: dict[str, Any]) -> str:
        """A sentence to say for a finished result: the definition's `result_speech` template
        ($field placeholders), else the fields read out."""
        if self.result_speech:
            return Template(self.result_speech).safe_substitute(
                {k: str(v) for k, v in result.items()})
        return "Done. " + ". ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items())


class PromptUserArgs(BaseModel):
    question: str = Field(min_length=1, max_length=500, description="one short question")


def load_definition(path: Path | None = None) -> AgentDefinition:
    source = path or resources.files("agent_session") / "data" / "cab_agent.yaml"
    text = source.read_text(encoding="utf-8")
    data = json.loads(text) if str(source).endswith(".json") else yaml.safe_load(text)
    return AgentDefinition.model_validate(data)


def ending_actions(definition: AgentDefinition) -> list[Action]:
    """The two actions every agent has: ask the user one question, or return the result."""
    return [
        pydantic_action("prompt_user", "Ask the user one question and wait for the answer.",
                        PromptUserArgs, ends_turn="question"),
        schema_action("final_answer", definition.result_description, definition.result_schema,
                      ends_turn="final"),
    ]
