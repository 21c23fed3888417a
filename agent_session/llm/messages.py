"""Session events rendered as chat messages for a model, in the two shapes backends need:
`json` (the action as a JSON object in the assistant's text; local model, watsonx json mode) and
`native` (OpenAI-style `tool_calls` and `tool` messages; watsonx chat with tools)."""

from __future__ import annotations

import json
from typing import Any, Literal

from ..events import ActionStep, Event, FinalResult, InvalidAction, Question, UserMessage
from .base import ActionCall

Mode = Literal["json", "native"]


def _action_json(name: str, arguments: Any) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def current_task(events: list[Event]) -> int:
    """Index where the current task starts: just after the last final result."""
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], FinalResult):
            return i + 1
    return 0


def compact(events: list[Event]) -> list[Event]:
    """Earlier tasks keep only what was said (user, questions, results); the current task keeps
    every step, which the model needs to finish it."""
    start = current_task(events)
    done = [e for e in events[:start] if isinstance(e, UserMessage | Question | FinalResult)]
    return done + events[start:]


def to_chat_messages(system_prompt: str, events: list[Event], mode: Mode,
                     arguments_as: Literal["string", "object"] = "string") -> list[dict[str, Any]]:
    """`arguments_as="object"` keeps tool-call arguments as dicts, for chat templates that
    serialize them themselves (Qwen's `tojson`)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    for index, event in enumerate(events):
        if isinstance(event, UserMessage):
            messages.append({"role": "user", "content": event.content})
        elif isinstance(event, FinalResult):
            if mode == "json":
                messages.append({"role": "assistant",
                                 "content": _action_json("final_answer", event.result)})
            else:
                messages.append({"role": "assistant",
                                 "content": "Done: " + json.dumps(event.result)})
        elif isinstance(event, Question):
            if mode == "json":
                messages.append({"role": "assistant", "content": _action_json(
                    "prompt_user", {"question": event.content})})
            else:
                messages.append({"role": "assistant", "content": event.content})
        elif isinstance(event, InvalidAction):
            text = event.arguments.get("text") or ""
            messages.append({"role": "assistant", "content": text or "(no action)"})
            messages.append({"role": "user", "content": event.observation["error"]})
        elif isinstance(event, ActionStep):
            observation = json.dumps(event.observation, ensure_ascii=False)
            if mode == "json":
                messages.append({"role": "assistant",
                                 "content": _action_json(event.name, event.arguments)})
                messages.append({"role": "tool", "content": observation})
            else:
                call_id = f"call_{index}"
                messages.append({"role": "assistant", "content": "", "tool_calls": [{
                    "id": call_id, "type": "function",
                    "function": {"name": event.name, "arguments": (
                        event.arguments if arguments_as == "object"
                        else json.dumps(event.arguments))}}]})
                messages.append({"role": "tool", "tool_call_id": call_id,
                                 "content": observation})
        else:  # never send the model less than the caller gave it
            raise TypeError(f"to_chat_messages got {type(event).__name__}, not a session "
                            "event (events.py)")
    return messages


def json_object(text: str, source: str) -> dict[str, Any]:
    """The JSON object a model answered with (fenced or bare); anything else is the model's
    failure (502)."""
    from ..errors import LLMBadResponse

    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        raise LLMBadResponse(f"{source} answered something that is not JSON.") from None
    if not isinstance(value, dict):
        raise LLMBadResponse(f"{source} answered JSON that is not an object.")
    return value


_GRAMMAR_NOISE = {"maxLength", "format", "description", "title"}


def grammar_schema(schema: Any) -> Any:
    """A schema as a grammar-constrained decoder wants it: length caps and formats dropped
    (they blow up the grammar; the action's own validation still enforces them)."""
    if isinstance(schema, dict):
        return {k: grammar_schema(v) for k, v in schema.items() if k not in _GRAMMAR_NOISE}
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    return schema


def action_union_schema(actions: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON schema of `{"name": ..., "arguments": {...}}` for any one of `actions`: what a
    constrained decoder may emit."""
    return {"oneOf": [
        {"type": "object",
         "properties": {"name": {"const": spec["name"]},
                        "arguments": grammar_schema(spec["parameters"])},
         "required": ["name", "arguments"]}
        for spec in actions
    ]}


def parse_json_action(text: str) -> list[ActionCall]:
    """`{"name", "arguments"}` (or `{"actions": [...]}`) from a JSON-mode answer."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    items = data.get("actions") if isinstance(data, dict) and "actions" in data else [data]
    calls = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            arguments = item.get("arguments", {})
            calls.append(ActionCall(item["name"], arguments if isinstance(arguments, dict)
                                    else json.dumps(arguments)))
    return calls
