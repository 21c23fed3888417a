"""Turns, ownership, locking and expiry on top of a `SessionStore`.

A turn works on a copy of the session and writes it back once, with a version check, only when
the agent finished the turn: a failed turn leaves the stored session exactly as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from .agent.actions import ActionContext
from .agent.catalog import AgentCatalog, HostedAgent
from .agent.strategy import StepCallback, TurnOutcome
from .clock import Clock
from .delivery.events import expiry_event, session_event
from .errors import (
    AgentMismatch,
    RewindTooFar,
    SessionForbidden,
    SessionNotFound,
    ShuttingDown,
    TurnCancelled,
    TurnTimeout,
)
from .events import Event, FinalResult, Question, UserMessage
from .logging_setup import session_id_var
from .metrics import Metrics
from .stores.base import Session, SessionStore, StoreTurn
from .turn_budget import turn_budget

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 0.25  # a cancel stops a turn within this, plus the store's round trip


Outcome = Literal["final", "question", "confirm", "fallback", "handoff", "cancelled"]


@dataclass(frozen=True)
class TurnResult:
    session_id: str
    status: Literal["question", "final"]
    question: str | None
    result: dict[str, Any] | None
    steps: int
    agent: str = ""
    asking: str | None = None
    outcome: Outcome = "question"


@dataclass(frozen=True)
class OpenTurn:
    """A session whose turn lock is held by the caller."""

    session: Session
    held: StoreTurn
    agent: HostedAgent


@dataclass(frozen=True)
class SessionPolicy:
    ttl_seconds: float = 1800
    max_messages: int = 200
    turn_wait_seconds: float = 30
    turn_timeout_seconds: float = 25


def trim_history(messages: list[Event], limit: int) -> list[Event]:
    """Drop the oldest whole turns (a turn starts at a user message) until `limit` holds; the
    latest turn is always kept, even when it alone is longer."""
    if len(messages) <= limit:
        return messages
    starts = [i for i, m in enumerate(messages) if isinstance(m, UserMessage)]
    for start in starts:
        if len(messages) - start <= limit:
            return messages[start:]
    return messages[starts[-1]:] if starts else messages[-limit:]


class SessionManager:
    def __init__(self, store: SessionStore, agents: AgentCatalog, clock: Clock,
                 policy: SessionPolicy, metrics: Metrics | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        """`notify`: webhooks are on; a turn that completes or hands off (and the sweep) writes
        its event to the store's outbox with its commit, then calls `notify(session_id)`."""
        self._metrics = metrics or Metrics()
        # Label children looked up once: `labels()` takes a lock and hashes on every call.
        # `abandoned`: the caller went away mid-turn; `cancelled`: the user dropped the task.
        self._turns_by_outcome = {kind: self._metrics.turns.labels(kind)
                                  for kind in ("question", "final", "fallback", "confirm",
                                               "handoff", "cancelled", "error", "abandoned",
                                               "stopped")}
        self._store = store
        self.agents = agents
        self._clock = clock
        self._policy = policy
        self.taking_turns = True
        self._notify = notify

    def stop_taking_turns(self) -> None:
        """From the stop signal on, new turns are refused (503); open ones run to the end."""
        self.taking_turns = False

    @asynccontextmanager
    async def open_turn(self, session_id: str | None, user_id: str | None,
                        agent: str | None = None) -> AsyncIterator[OpenTurn]:
        """Hold the session's turn lock and check the agent and ownership (404, 409, 403 happen
        here, before any work), then let the caller `play` the turn. Streaming routes enter
        this before their response starts, so those errors are plain HTTP errors. A session
        keeps the agent that started it; a turn naming none continues with it."""
        if not self.taking_turns:
            raise ShuttingDown("This instance is shutting down; send the turn again.")
        if agent is not None:
            self.agents.get(agent)  # 404 before any lock is taken
        session_id = session_id or uuid.uuid4().hex
        session_id_var.set(session_id)
        async with self._store.turn(session_id, self._policy.turn_wait_seconds) as held:
            session = held.session
            if session is None:
                now = self._clock.now()
                session = Session(session_id=session_id, user_id=user_id, created_at=now,
                                  updated_at=now, expires_at=now,
                                  agent=self.agents.get(agent).name)
            yield OpenTurn(session, held, self.agent_for(session, user_id, agent))

    def agent_for(self, session: Session, user_id: str | None,
                  agent: str | None) -> HostedAgent:
        """The stored session's agent, if `user_id` may use it (403) and `agent`, when named,
        is that agent (409). Turns check it under their lock; a voice call also at its start."""
        if session.user_id is not None and session.user_id != user_id:
            raise SessionForbidden("This session belongs to another user.")
        own = session.agent or self.agents.default  # earlier releases ran one agent
        if agent is not None and agent != own:
            raise AgentMismatch(f"Session {session.session_id} belongs to the agent {own!r}, "
                                f"not {agent!r}; start a new session for {agent!r}.")
        return self.agents.get(own)

    async def play(self, turn: OpenTurn, query: str,
                   on_step: StepCallback | None = None, heard: str | None = None) -> TurnResult:
        """Run the agent on the open turn, all its steps under `turn_timeout_seconds` (504
        past it), and save the session once, if the turn finishes. `heard`: a voice caller
        talked over the last reply and heard only this much of it (stored on that reply)."""
        session = turn.session
        if heard is not None and session.messages and \
                isinstance(session.messages[-1], Question):
            cut = session.messages[-1].model_copy(update={"heard": heard})
            session = session.model_copy(update={"messages": [*session.messages[:-1], cut]})
        now = self._clock.now()
        user_message = UserMessage(content=query, at=now.isoformat())
        ctx = ActionContext(session_id=session.session_id, user_id=session.user_id, now=now)
        self._metrics.turns_in_progress.inc()
        deadline = self._policy.turn_timeout_seconds
        with turn_budget(deadline, lambda: not turn.held.lost):
            agent = asyncio.create_task(turn.agent.strategy.run(session.messages,
                                                                user_message, ctx, on_step))
        try:
            async with asyncio.timeout(deadline):
                outcome = await self._unless_cancelled(agent, turn.held)
        except TimeoutError:
            self._turns_by_outcome["error"].inc()
            raise TurnTimeout(f"The turn did not finish within {deadline:g} s and nothing was "
                              "saved; send the same message again.") from None
        except TurnCancelled:
            self._turns_by_outcome["stopped"].inc()
            raise
        except BaseException as exc:
            kind = "abandoned" if isinstance(exc, asyncio.CancelledError) else "error"
            self._turns_by_outcome[kind].inc()
            raise
        finally:
            if not agent.done():  # stopped, timed out or abandoned: the model stops too
                agent.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await agent
            self._metrics.turns_in_progress.dec()
        self._turns_by_outcome[outcome.kind].inc()
        self._metrics.steps.observe(outcome.steps)
        done = self._clock.now()
        messages = trim_history([*session.messages, user_message, *outcome.events],
                                self._policy.max_messages)
        updated = session.model_copy(update={
            "agent": turn.agent.name,
            "messages": messages,
            "updated_at": done,
            "expires_at": done + timedelta(seconds=self._policy.ttl_seconds),
            "result": outcome.result if outcome.kind == "final" else session.result,
        })
        events = []
        if self._notify is not None and outcome.kind in ("final", "handoff"):
            kind = "session.completed" if outcome.kind == "final" else "session.handoff"
            events.append(session_event(kind, session.session_id, turn.agent.name,
                                        session.user_id, outcome.result, done))
        await turn.held.commit(updated, events)
        if events:
            self._notify(session.session_id)
        log.info("turn done: %s after %d steps", outcome.kind, outcome.steps)
        status = "final" if outcome.kind == "final" else "question"
        return TurnResult(session.session_id, status, outcome.question, outcome.result,
                          outcome.steps, turn.agent.name, outcome.asking, outcome.kind)

    async def _unless_cancelled(self, agent: asyncio.Task[TurnOutcome],
                                held: StoreTurn) -> TurnOutcome:
        """The agent's outcome, or `TurnCancelled` as soon as the store says the cancel route
        asked this turn to stop (polled, so a turn that ends fast asks the store nothing)."""
        while True:
            done, _ = await asyncio.wait({agent}, timeout=CANCEL_POLL_SECONDS)
            if done:
                return agent.result()
            if await held.cancelled():
                raise TurnCancelled("The turn was cancelled (POST /session/{id}/cancel) and "
                                    "nothing was saved; the session is as before it.")

    async def cancel(self, session_id: str) -> bool:
        """Stop the turn running on the session, in whichever replica; False when none runs
        (404 when there is no such session either)."""
        if await self._store.cancel(session_id):
            return True
        await self.get(session_id)
        return False

    async def turn(self, session_id: str | None, user_id: str | None, query: str,
                   on_step: StepCallback | None = None, agent: str | None = None,
                   heard: str | None = None) -> TurnResult:
        async with self.open_turn(session_id, user_id, agent) as turn:
            return await self.play(turn, query, on_step, heard)

    async def rewind(self, session_id: str, turns: int) -> Session:
        """Remove the last `turns` user turns and everything they caused, under the same lock
        as a turn (409 while one runs, no waiting): the form state, a pending confirmation and
        the last result are then those the remaining events say."""
        async with self._store.turn(session_id, 0) as held:
            session = held.session
            if session is None:
                raise SessionNotFound(f"No session {session_id!r}: it never existed or has "
                                      "expired.")
            starts = [i for i, e in enumerate(session.messages) if isinstance(e, UserMessage)]
            if turns > len(starts):
                raise RewindTooFar(f"Session {session_id} has {len(starts)} user turns (older "
                                   "ones may have been trimmed); rewind at most that many.")
            kept = session.messages[:starts[-turns]]
            result = next((e.result for e in reversed(kept) if isinstance(e, FinalResult)), None)
            now = self._clock.now()
            rewound = session.model_copy(update={
                "messages": kept, "result": result, "updated_at": now,
                "expires_at": now + timedelta(seconds=self._policy.ttl_seconds)})
            return await held.commit(rewound)

    async def get(self, session_id: str) -> Session:
        session = await self._store.get(session_id)
        if session is None:
            raise SessionNotFound(f"No session {session_id!r}: it never existed or has expired.")
        return session

    async def delete(self, session_id: str) -> None:
        if not await self._store.delete(session_id):
            raise SessionNotFound(f"No session {session_id!r}: it never existed or has expired.")

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        return await self._store.list(user_id, limit, cursor)

    async def count_live(self) -> int:
        return await self._store.count_live()

    async def sweep_once(self) -> int:
        on_expiry = None
        if self._notify is not None:
            on_expiry = expiry_event(self._clock.now(), self.agents.default)
        removed = await self._store.delete_expired(on_expiry)
        if removed:
            log.info("expired %d sessions", removed)
        return removed

    async def sweep_forever(self, interval: float) -> None:
        """The background expiry task started by the app's lifespan."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep_once()
            except Exception:  # keep sweeping; a store hiccup must not kill the task
                log.exception("session sweep failed")
