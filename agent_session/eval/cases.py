"""The case-file format (YAML or JSON) as pydantic models, read from either the current format
(`cases`) or the old conversation files (`conversations`), and checked against the agent's own
description so that a typo fails before any case is played (exit code 2), not as a failed case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from ..yaml12 import load_yaml

OUTCOMES = ("final", "handoff", "cancelled")
# Reply keys that are not slots: any question without a scripted slot, and a read-back.
REPLY_KEYS = ("other", "confirm")
RELATIVE_DAY = re.compile(r"^\+(\d+)d$")
# Old conversation files have no `agent` and name one cab slot by a short word.
OLD_DEFAULT_AGENT = "cab-booking"
OLD_CAB_REPLY_KEYS = {"pickup": "pickup_location"}


class CaseFileError(Exception):
    """Bad input: one line naming the file, the case and the problem (exit code 2)."""

    def __init__(self, source: str, problem: str, case_id: str | None = None):
        self.source, self.problem, self.case_id = source, problem, case_id
        where = f"{source}: case {case_id}: " if case_id is not None else f"{source}: "
        super().__init__(where + " ".join(problem.split()))


def _text(value: Any) -> Any:
    """YAML reads `guests: 4` or `user_id: 12345` as a number; a reply is what the user types."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _listed(value: Any) -> Any:
    """`says_contains: window` means the one-item list."""
    return [value] if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Names = Annotated[list[str] | None, BeforeValidator(_listed)]


class Expect(BaseModel):
    """What a played case must show. Keys other than the four below are result fields."""

    model_config = ConfigDict(extra="allow")

    outcome: Literal["final", "handoff", "cancelled"] = "final"
    asks: Names = None
    actions: Names = None
    says_contains: Names = None

    @property
    def fields(self) -> dict[str, Any]:
        """The result-field expectations (`guests: 4`, `name_contains: ...`, `date: +1d`)."""
        return dict(self.model_extra or {})


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text
    first: Text
    user_id: Text | None = None
    replies: dict[str, Text | Annotated[list[Text], Field(min_length=1)]] = Field(
        default_factory=dict)
    at_turn: dict[int, Text] = Field(default_factory=dict)
    expect: Expect = Field(default_factory=Expect)
    _used: dict[str, int] = PrivateAttr(default_factory=dict)

    @field_validator("at_turn")
    @classmethod
    def _after_first(cls, value: dict[int, str]) -> dict[int, str]:
        for turn in value:
            if turn < 2:
                raise ValueError(f"turn {turn}: turn 1 is `first`, at_turn starts at 2")
        return value

    def start(self) -> None:
        """Before a play: list replies start again from their first answer."""
        self._used = {}

    def reply(self, turn: int, outcome: str, asking: str | None) -> str:
        """What the user says at `turn` (2 or later) after a question of this kind. A list
        of replies answers the same question in turn, the last one from then on
        (`confirm: ["no", "yes"]`)."""
        if turn in self.at_turn:
            return self.at_turn[turn]
        keys = ["confirm", "other"] if outcome == "confirm" else \
            [asking, "other"] if asking else ["other"]
        key = next((k for k in keys if k in self.replies), None)
        if key is None:
            return "yes"
        answer = self.replies[key]
        if isinstance(answer, str):
            return answer
        used = self._used.get(key, 0)
        self._used[key] = used + 1
        return answer[min(used, len(answer) - 1)]


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: Text | None = None
    description: str | None = None
    user_id: Text | None = None
    max_turns: int = Field(8, ge=1)
    cases: list[Case] = Field(min_length=1)
    _source: str = PrivateAttr("")

    @property
    def source(self) -> str:
        """The path it was read from, for messages and the JUnit suite name."""
        return self._source

    def read_from(self, source: str) -> CaseFile:
        self._source = source
        return self


@dataclass
class AgentInfo:
    """What the service says about an agent (`GET /agents/{agent}`) that the checks need."""

    name: str
    slots: list[str]
    # None when the agent publishes no result-schema properties: fields cannot be checked.
    result_fields: list[str] | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentInfo:
        schema = data.get("result_schema") or {}
        properties = schema.get("properties") if isinstance(schema, dict) else None
        return cls(name=str(data.get("name", "")),
                   slots=[str(s["name"]) for s in data.get("slots") or [] if "name" in s],
                   result_fields=list(properties) if isinstance(properties, dict) else None)


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml(text)  # any other name: YAML
    except json.JSONDecodeError as exc:
        raise CaseFileError(str(path), f"invalid JSON at line {exc.lineno} column {exc.colno}: "
                                       f"{exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseFileError(str(path), f"invalid YAML{where}: {problem}") from None


def from_old_format(data: dict[str, Any]) -> dict[str, Any]:
    """An old conversation file (`conversations`, cab replies keyed by short words) as the
    current format, so that both are read by one model."""
    new = {k: v for k, v in data.items() if k not in ("format", "conversations")}
    agent = new.setdefault("agent", OLD_DEFAULT_AGENT)
    conversations = data["conversations"]
    if not isinstance(conversations, list):
        new["cases"] = conversations  # refused by the model, with its own message
        return new
    cases = []
    for conversation in conversations:
        if isinstance(conversation, dict) and isinstance(conversation.get("replies"), dict) \
                and agent == OLD_DEFAULT_AGENT:
            replies = {OLD_CAB_REPLY_KEYS.get(k, k): v
                       for k, v in conversation["replies"].items()}
            conversation = {**conversation, "replies": replies}
        cases.append(conversation)
    new["cases"] = cases
    return new


def _problem(error: ValidationError, data: dict[str, Any], source: str) -> CaseFileError:
    """The first validation error as one line, naming the case by its id when it has one."""
    errors = error.errors()
    first = errors[0]
    loc = list(first["loc"])
    case_id = None
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        raw = data.get("cases") or []
        entry = raw[loc[1]] if loc[1] < len(raw) else None
        raw_id = entry.get("id") if isinstance(entry, dict) else None
        case_id = str(raw_id) if raw_id not in (None, "") else f"#{loc[1] + 1}"
        loc = loc[2:]
    field = ".".join(str(part) for part in loc) or "file"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return CaseFileError(source, f"{field}: {message}{more}", case_id)


def load_case_file(path: str | Path) -> CaseFile:
    """Read and validate one case file, raising CaseFileError on anything malformed."""
    path = Path(path)
    source = str(path)
    data = _parse(path)
    if not isinstance(data, dict):
        raise CaseFileError(source, "the file must hold a mapping with `agent` and `cases`")
    if "conversations" in data and "cases" not in data:
        data = from_old_format(data)
    try:
        case_file = CaseFile.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc, data, source) from None
    seen: set[str] = set()
    for case in case_file.cases:
        if case.id in seen:
            raise CaseFileError(source, "duplicate id", case.id)
        seen.add(case.id)
    return case_file.read_from(source)


def check_against(case_file: CaseFile, agent: AgentInfo) -> None:
    """Refuse replies, asks and expected fields the agent does not have: such a case could
    only fail, and the message would blame the agent instead of the file."""
    source = case_file.source
    slots = ", ".join(agent.slots) or "none"
    for case in case_file.cases:
        for key in case.replies:
            if key not in agent.slots and key not in REPLY_KEYS:
                raise CaseFileError(source, f"replies.{key}: agent {agent.name} has no slot "
                                            f"{key!r} (slots: {slots}; or `other`, `confirm`)",
                                    case.id)
        for name in case.expect.asks or []:
            if name not in agent.slots:
                raise CaseFileError(source, f"expect.asks: agent {agent.name} has no slot "
                                            f"{name!r} (slots: {slots})", case.id)
        if agent.result_fields is None:
            continue
        for key in case.expect.fields:
            field = key.removesuffix("_contains")
            if field not in agent.result_fields and key not in agent.result_fields:
                raise CaseFileError(source, f"expect.{key}: the result of agent {agent.name} "
                                            f"has no field {field!r} (result_schema: "
                                            f"{', '.join(agent.result_fields) or 'none'})",
                                    case.id)


def dump_yaml(case_file: CaseFile, header: str = "") -> str:
    """A case file in the current format, as YAML (how the old cab files were converted)."""
    cases = []
    for case in case_file.cases:
        entry: dict[str, Any] = {"id": case.id}
        if case.user_id is not None:
            entry["user_id"] = case.user_id
        entry["first"] = case.first
        if case.at_turn:
            entry["at_turn"] = dict(case.at_turn)
        if case.replies:
            entry["replies"] = dict(case.replies)
        expect = case.expect.model_dump(exclude_defaults=True)
        if expect:
            entry["expect"] = expect
        cases.append(entry)
    data: dict[str, Any] = {"agent": case_file.agent}
    if case_file.description:
        data["description"] = case_file.description
    if case_file.user_id is not None:
        data["user_id"] = case_file.user_id
    data["max_turns"] = case_file.max_turns
    data["cases"] = cases
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body
