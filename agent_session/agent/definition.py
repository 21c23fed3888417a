"""Agent definitions: the prompt, the enabled actions and the result schema, from a file.

The bundled cab agent lives in `data/cab_agent.yaml`; `AGENT_FILE` (YAML or JSON) replaces it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml
from pydantic import BaseModel, Field

from .actions import Action, pydantic_action, schema_action


class AgentDefinition(BaseModel):
    name: str
    system_prompt: str = Field(min_length=1)
    actions: list[str]
    result_schema: dict[str, Any]
    result_description: str = "Return the finished result."
    result_speech: str | None = None

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
