"""Agent definitions: the prompt, the enabled actions, the result schema and, for the `form`
strategy, the slots, from a file.

The bundled cab agent lives in `data/cab_agent.yaml`; `AGENT_FILE` (YAML or JSON) replaces it.
An action is either one the service provides (named by a string) or the agent's own: a Python
function named by import path, loaded at start-up (`custom_actions.py`).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from pydantic import BaseModel, Field, model_validator

from ..yaml12 import load_yaml
from .actions import Action, pydantic_action, schema_action
from .slots import FormSpec


class CustomAction(BaseModel):
    """An action of the agent's own: `function` is `package.module:function`, an async (or
    plain) function `(arguments: dict, ctx: ActionContext) -> dict`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    description: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


DEFAULT_PROMPT = """$description

Ask the user one short question at a time for what is still unknown, using the actions below;
when everything is known, call final_answer. Use only what the user said or an action returned.

$user
Today is $today ($timezone).

Actions:
$actions
"""
ENDING_ACTIONS = ("prompt_user", "final_answer")
DEFAULT_FALLBACK_QUESTION = "Sorry, I couldn't work that out. Could you say it another way?"


class AgentDefinition(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    description: str | None = Field(None, min_length=1, max_length=1000)
    system_prompt: str = Field(DEFAULT_PROMPT, min_length=1)
    actions: list[str | CustomAction] = Field(default_factory=lambda: [])
    result_schema: dict[str, Any] | None = None
    result_description: str = "Return the finished result."
    result_speech: str | None = None
    fallback_question: str = Field(DEFAULT_FALLBACK_QUESTION, min_length=1, max_length=500)
    form: FormSpec | None = None
    confirm: str | None = Field(None, min_length=1, max_length=1000)
    max_attempts: int = Field(3, ge=1, le=20)
    handoff_message: str = Field(
        "I'm sorry, I can't get this done with you here. I'm passing you to a person who "
        "can help.", min_length=1, max_length=500)
    greeting: str | None = Field(None, min_length=1, max_length=500)
    speech_hints: list[str] = Field(default_factory=lambda: [])

    @model_validator(mode="after")
    def _complete(self) -> AgentDefinition:
        """Fill what a short agent file leaves out: the description, the result schema from the
        slots, the two ending actions."""
        if self.result_schema is None:
            if self.form is None:
                raise ValueError("an agent needs a result_schema, or form slots to derive it "
                                 "from")
            self.result_schema = {
                "type": "object", "additionalProperties": False,
                "required": [s.name for s in self.form.slots if s.required],
                "properties": {s.name: s.json_schema() for s in self.form.slots}}
        if self.description is None:
            self.description = self.result_description
        for name in ENDING_ACTIONS:
            if name not in self.action_names:
                self.actions = [*self.actions, name]
        return self

    @model_validator(mode="after")
    def _slots_are_result_fields(self) -> AgentDefinition:
        if self.form is None:
            return self
        schema = self.schema
        fields = set(schema.get("properties", {}))
        slots = [slot.name for slot in self.form.slots]
        stray = [name for name in slots if name not in fields]
        if stray:
            raise ValueError(f"form slots that are not result fields: {', '.join(stray)}")
        unfilled = [f for f in schema.get("required", []) if f not in slots]
        if unfilled:
            raise ValueError(f"required result fields without a slot: {', '.join(unfilled)}")
        known = set(self.action_names)
        for slot in self.form.slots:
            for rule in slot.resolve:
                if rule.action not in known:
                    raise ValueError(f"slot {slot.name} resolves with {rule.action!r}, which "
                                     "is not among the agent's actions")
        if self.confirm:
            unknown = set(re.findall(r"\$\{?(\w+)", self.confirm)) - set(slots)
            if unknown:
                raise ValueError(f"confirm names unknown slots: {', '.join(sorted(unknown))}")
        return self

    @property
    def schema(self) -> dict[str, Any]:
        """The result schema (always set once validated)."""
        assert self.result_schema is not None
        return self.result_schema

    @property
    def action_names(self) -> list[str]:
        return [a if isinstance(a, str) else a.name for a in self.actions]

    @property
    def custom_actions(self) -> list[CustomAction]:
        return [a for a in self.actions if isinstance(a, CustomAction)]

    @staticmethod
    def fill_template(template: str, values: dict[str, Any]) -> str:
        """`$field` placeholders filled with the values (`none` for an empty one, `yes`/`no`
        for a boolean)."""
        def spoken(value: Any) -> str:
            if value is None:
                return "none"
            if isinstance(value, bool):
                return "yes" if value else "no"
            return str(value)

        return Template(template).safe_substitute({k: spoken(v) for k, v in values.items()})

    def speak_result(self, result: dict[str, Any]) -> str:
        """A sentence to say for a finished result: the definition's `result_speech` template
        ($field placeholders), else the fields read out."""
        if self.result_speech:
            return self.fill_template(self.result_speech, result)
        return "Done. " + ". ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()
                                    if v is not None)


class PromptUserArgs(BaseModel):
    question: str = Field(min_length=1, max_length=500, description="one short question")


BUNDLED_AGENT = "cab_agent.yaml"


def load_definition(path: Path | None = None) -> AgentDefinition:
    source = path or resources.files("agent_session") / "data" / BUNDLED_AGENT
    text = source.read_text(encoding="utf-8")
    data = json.loads(text) if str(source).endswith(".json") else load_yaml(text)
    return AgentDefinition.model_validate(data)


def ending_actions(definition: AgentDefinition) -> list[Action]:
    """The two actions every agent has: ask the user one question, or return the result."""
    return [
        pydantic_action("prompt_user", "Ask the user one question and wait for the answer.",
                        PromptUserArgs, ends_turn="question"),
        schema_action("final_answer", definition.result_description, definition.schema,
                      ends_turn="final"),
    ]
