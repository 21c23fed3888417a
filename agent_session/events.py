"""The events of a session, oldest first: what the user said, each action the agent ran with
its observation, an action the model got wrong, the agent's questions and its results.

Every producer (the session manager, both strategies) builds these and every consumer (the
chat renderings for the models, the form state, history trimming) reads them; nothing else
knows the stored shape. Stored and served as JSON, exactly as earlier releases wrote it: the
same keys, unset optional ones left out, and keys this release does not know kept. Events are
frozen: a session's history is shared between copies, never changed in place.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, model_serializer

from .agent.form_state import FormState

INVALID_ACTION = "invalid_action"


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        """Optional fields appear only when set, as in the stored format."""
        return {key: value for key, value in handler(self).items() if value is not None}


class UserMessage(_Event):
    role: Literal["user"] = "user"
    content: str
    at: str | None = None  # ISO time the service received it


class ActionStep(_Event):
    """An action the agent ran, with what it observed (`content` is the observation as JSON,
    for readers that show only text)."""

    role: Literal["tool"] = "tool"
    name: str
    arguments: dict[str, Any]
    observation: dict[str, Any]
    content: str

    @classmethod
    def of(cls, name: str, arguments: dict[str, Any], observation: dict[str, Any]) -> ActionStep:
        return cls(name=name, arguments=arguments, observation=observation,
                   content=json.dumps(observation, default=str))


class InvalidAction(ActionStep):
    """The model answered no usable action: `arguments["text"]` is what it said, the
    observation's `error` what it was told."""

    name: Literal["invalid_action"] = INVALID_ACTION

    @classmethod
    def said(cls, text: str, error: str) -> InvalidAction:
        observation = {"error": error}
        return cls(arguments={"text": text}, observation=observation,
                   content=json.dumps(observation))


class Question(_Event):
    """The agent asks the user; `fallback` when it asked because it could not go on, `form` the
    form strategy's state at that point."""

    role: Literal["assistant"] = "assistant"
    kind: Literal["question"] = "question"
    content: str
    fallback: bool | None = None
    form: FormState | None = None
    outcome: str | None = None  # confirm, handoff, cancelled: what kind of question it was
    heard: str | None = None  # a voice caller talked over it, having heard only this much


class FinalResult(_Event):
    """The task's result (`content` is it as JSON)."""

    role: Literal["assistant"] = "assistant"
    kind: Literal["final"] = "final"
    result: dict[str, Any]
    content: str

    @classmethod
    def of(cls, result: dict[str, Any]) -> FinalResult:
        return cls(result=result, content=json.dumps(result))


def _kind(value: Any) -> str:
    """Which event a stored dict (or a model) is."""
    if isinstance(value, _Event):
        value = {"role": getattr(value, "role", None), "kind": getattr(value, "kind", None),
                 "name": getattr(value, "name", None)}
    role = value.get("role")
    if role == "tool":
        return "invalid" if value.get("name") == INVALID_ACTION else "tool"
    if role == "assistant":
        return "final" if value.get("kind") == "final" else "question"
    return "user"


Event = Annotated[
    Annotated[UserMessage, Tag("user")] | Annotated[ActionStep, Tag("tool")]
    | Annotated[InvalidAction, Tag("invalid")] | Annotated[Question, Tag("question")]
    | Annotated[FinalResult, Tag("final")],
    Discriminator(_kind),
]
