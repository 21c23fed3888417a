"""The agents one service hosts: each from its own file, with its own actions, strategy and
prompt, looked up by name for every turn.

`AGENTS` names files and folders (every `*.yaml`, `*.yml`, `*.json` directly in a folder, but
test case files);
`AGENT_FILE` is the one-file form; with neither, the bundled cab agent. A name used twice, or
a `DEFAULT_AGENT` that is not among them, stops start-up with the setting to fix.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ConfigurationError, UnknownAgent
from ..yaml12 import load_yaml
from .actions import Action, ActionRegistry
from .custom_actions import AgentFileError, build_custom_actions
from .definition import AgentDefinition, ending_actions, load_definition
from .strategy import AgentStrategy

log = logging.getLogger(__name__)
AGENT_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class HostedAgent:
    definition: AgentDefinition
    registry: ActionRegistry
    strategy: AgentStrategy

    @property
    def name(self) -> str:
        return self.definition.name

    def describe(self) -> dict[str, Any]:
        """The agent as `GET /agents/{agent}` shows it."""
        form = self.definition.form
        slots = [{"name": s.name, "type": s.type, "question": s.question,
                  "required": s.required} for s in (form.slots if form else [])]
        return {"name": self.name, "description": self.definition.description,
                "strategy": self.strategy.name, "slots": slots,
                "result_schema": self.definition.schema}


def _is_case_file(path: Path) -> bool:
    """A test case file beside the agents (top-level `cases`, no `name`): not an agent, so a
    folder of both loads; named on its own, it still fails as an agent file would."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return False  # loading it as an agent reports what is wrong
    if isinstance(data, dict) and "cases" in data and "name" not in data:
        log.info("AGENTS: %s is a case file, not an agent: skipped", path)
        return True
    return False


def agent_files(agents: list[str], agent_file: Path | None) -> list[Path | None]:
    """The agent files to load, in order; `None` stands for the bundled agent."""
    if not agents:
        return [agent_file]
    found: list[Path | None] = []
    for entry in agents:
        path = Path(entry).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and
                            p.suffix.lower() in AGENT_SUFFIXES and not _is_case_file(p))
            if not inside:
                raise ConfigurationError(f"AGENTS names the folder {entry}, which holds no "
                                         "*.yaml, *.yml or *.json agent file.")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigurationError(f"AGENTS names {entry}, which is neither a file nor a "
                                     "folder.")
    return found


def load_agent_file(path: Path | None) -> AgentDefinition:
    """One agent file, validated; the error names the file and what is wrong in it."""
    where = str(path) if path else "the bundled agent"
    try:
        definition = load_definition(path)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                             for e in exc.errors()[:3])
        raise AgentFileError(f"Agent file {where} is not valid: {problems}") from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise AgentFileError(f"Agent file {where} cannot be read: {exc}") from None
    if path is not None and str(path.parent.resolve()) not in sys.path:
        # An agent's own actions may live beside its file (`my_actions:lookup`).
        sys.path.append(str(path.parent.resolve()))
    return definition


class AgentCatalog:
    def __init__(self, agents: list[HostedAgent], default: str | None = None) -> None:
        self._agents: dict[str, HostedAgent] = {}
        for agent in agents:
            if agent.name in self._agents:
                raise ConfigurationError(f"Two agent files name the agent {agent.name!r}; "
                                         "agent names must be unique (AGENTS).")
            self._agents[agent.name] = agent
        if not self._agents:
            raise ConfigurationError("No agent to run: AGENTS names none.")
        self.default = default or next(iter(self._agents))
        if self.default not in self._agents:
            raise ConfigurationError(f"DEFAULT_AGENT={self.default} is not among the loaded "
                                     f"agents ({', '.join(self._agents)}).")

    def get(self, name: str | None) -> HostedAgent:
        """The agent called `name` (the default when None); 404 when there is none."""
        agent = self._agents.get(name or self.default)
        if agent is None:
            raise UnknownAgent(f"No agent {name!r}; this service runs "
                               f"{', '.join(self._agents)}.")
        return agent

    def __iter__(self) -> Iterator[HostedAgent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def names(self) -> list[str]:
        return list(self._agents)

    def uses(self, action: str) -> bool:
        return any(action in agent.definition.action_names for agent in self)

    def speech_hints(self) -> list[str]:
        """Words the recognizer should expect: each agent's hints, then its choices."""
        words: list[str] = []
        for agent in self:
            words.extend(agent.definition.speech_hints)
        for agent in self:
            for slot in agent.definition.form.slots if agent.definition.form else []:
                for choice in slot.choices:
                    words.extend([choice.value, *choice.synonyms])
        return list(dict.fromkeys(words))


def agent_registry(definition: AgentDefinition,
                   library: Callable[[set[str]], list[Action]]) -> ActionRegistry:
    """The agent's actions, in the order its file names them: built-in ones from the library
    (built only when named), its own by import path, and the two ending actions."""
    names = definition.action_names
    own = build_custom_actions(definition)
    own_names = {a.name for a in own}
    available = ActionRegistry([*library(set(names) - own_names), *ending_actions(definition),
                                *own])
    try:
        return available.select(names)
    except ValueError as exc:
        raise AgentFileError(f"Agent {definition.name}: {exc}") from None
