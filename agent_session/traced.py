"""Spans around the parts of a turn, as wrappers the service graph puts in only when tracing is
on (so tracing off costs nothing): the agent's turn, each model call, each action and each
session-store round trip. Names and attributes follow OpenTelemetry's GenAI and database
semantic conventions where they fit."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from opentelemetry.trace import SpanKind, Tracer

from .agent.actions import ActionContext, ActionRegistry
from .agent.strategy import AgentStrategy, StepCallback, TurnOutcome
from .events import Event, UserMessage
from .llm.base import JSONRequest, LLMClient, LLMReply, LLMRequest
from .stores.base import Session, SessionStore, StoreTurn
from .stores.outbox import ExpiryEvent, OutboxEvent

# gen_ai.provider.name for each LLM backend (`llama_cpp` is ours: the list has no embedded one).
PROVIDERS = {"watsonx": "ibm.watsonx.ai", "openai": "openai", "local": "llama_cpp"}


class TracedAgent:
    """An `invoke_agent` span per turn: session id, strategy, outcome, steps."""

    def __init__(self, agent: AgentStrategy, tracer: Tracer) -> None:
        self._agent, self._tracer = agent, tracer
        self.name = agent.name
        self.needs_warm_up = agent.needs_warm_up

    async def prepare(self) -> None:
        await self._agent.prepare()

    async def run(self, history: list[Event], user_message: UserMessage,
                  ctx: ActionContext, on_step: StepCallback | None = None) -> TurnOutcome:
        attributes = {"gen_ai.operation.name": "invoke_agent", "session.id": ctx.session_id,
                      "gen_ai.conversation.id": ctx.session_id, "agent.strategy": self.name}
        with self._tracer.start_as_current_span(f"invoke_agent {self.name}",
                                                attributes=attributes) as span:
            outcome = await self._agent.run(history, user_message, ctx, on_step)
            span.set_attribute("agent.outcome", outcome.kind)
            span.set_attribute("agent.steps", outcome.steps)
            return outcome


class TracedLLM:
    """A `chat {model}` client span per model call, with the backend, model and token counts."""

    def __init__(self, llm: LLMClient, tracer: Tracer, model: str) -> None:
        self._llm, self._tracer, self._model = llm, tracer, model
        self.name = llm.name

    def _attributes(self, session_id: str) -> dict[str, Any]:
        return {"gen_ai.operation.name": "chat",
                "gen_ai.provider.name": PROVIDERS.get(self.name, self.name),
                "gen_ai.request.model": self._model, "gen_ai.conversation.id": session_id}

    async def complete(self, request: LLMRequest) -> LLMReply:
        with self._tracer.start_as_current_span(
                f"chat {self._model}", kind=SpanKind.CLIENT,
                attributes=self._attributes(request.session_id)) as span:
            reply = await self._llm.complete(request)
            span.set_attribute("gen_ai.usage.input_tokens", reply.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", reply.completion_tokens)
            span.set_attribute("agent.actions", [action.name for action in reply.actions])
            return reply

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        attributes = {**self._attributes(request.session_id), "gen_ai.output.type": "json",
                      "gen_ai.request.max_tokens": request.max_tokens}
        with self._tracer.start_as_current_span(f"chat {self._model}", kind=SpanKind.CLIENT,
                                                attributes=attributes):
            return await self._llm.complete_json(request)

    async def check(self) -> None:
        await self._llm.check()

    async def close(self) -> None:
        await self._llm.close()


def traced_actions(registry: ActionRegistry, tracer: Tracer) -> ActionRegistry:
    """The registry with an `execute_tool {name}` span around every action that runs."""

    def wrap(action: Any) -> Any:
        run = action.run
        if run is None:
            return action

        async def traced_run(arguments: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
            with tracer.start_as_current_span(f"execute_tool {action.name}", attributes={
                    "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": action.name}):
                return await run(arguments, ctx)

        return dataclasses.replace(action, run=traced_run)

    return ActionRegistry([wrap(registry.get(name)) for name in registry.names])


class TracedStore:
    """A client span per session-store round trip (`db.system.name`, `db.operation.name`)."""

    def __init__(self, store: SessionStore, tracer: Tracer, system: str) -> None:
        self._store, self._tracer, self._system = store, tracer, system

    def span(self, operation: str, session_id: str | None = None) -> Any:
        attributes = {"db.system.name": self._system, "db.operation.name": operation}
        if session_id is not None:
            attributes["session.id"] = session_id
        return self._tracer.start_as_current_span(f"session_store {operation}",
                                                  kind=SpanKind.CLIENT, attributes=attributes)

    async def get(self, session_id: str) -> Session | None:
        with self.span("get", session_id):
            return await self._store.get(session_id)

    async def delete(self, session_id: str) -> bool:
        with self.span("delete", session_id):
            return await self._store.delete(session_id)

    async def list(self, user_id: str | None, limit: int,
                   cursor: str | None) -> tuple[list[Session], str | None]:
        with self.span("list"):
            return await self._store.list(user_id, limit, cursor)

    async def count_live(self) -> int:
        with self.span("count_live"):
            return await self._store.count_live()

    async def delete_expired(self, on_expiry: ExpiryEvent | None = None) -> int:
        with self.span("delete_expired"):
            return await self._store.delete_expired(on_expiry)

    async def claim_events(self, owner: str, lease_seconds: float, limit: int,
                           session_id: str | None = None) -> list[OutboxEvent]:
        with self.span("claim_events", session_id):
            return await self._store.claim_events(owner, lease_seconds, limit, session_id)

    async def event_delivered(self, event: OutboxEvent, owner: str) -> None:
        with self.span("event_delivered", event.session_id):
            await self._store.event_delivered(event, owner)

    async def event_failed(self, event: OutboxEvent, owner: str, retry_in: float) -> None:
        with self.span("event_failed", event.session_id):
            await self._store.event_failed(event, owner, retry_in)

    async def outbox_backlog(self) -> tuple[int, int | None]:
        with self.span("outbox_backlog"):
            return await self._store.outbox_backlog()

    @asynccontextmanager
    async def turn(self, session_id: str, wait: float) -> AsyncIterator[StoreTurn]:
        async with AsyncExitStack() as stack:
            with self.span("lock_and_get", session_id):
                held = await stack.enter_async_context(self._store.turn(session_id, wait))
            yield _TracedTurn(held, self)

    async def cancel(self, session_id: str) -> bool:
        with self.span("cancel", session_id):
            return await self._store.cancel(session_id)

    async def put_record(self, key: str, value: str, ttl_seconds: float) -> None:
        with self.span("put_record"):
            await self._store.put_record(key, value, ttl_seconds)

    async def get_record(self, key: str) -> str | None:
        with self.span("get_record"):
            return await self._store.get_record(key)

    async def ping(self) -> None:
        await self._store.ping()

    async def close(self) -> None:
        await self._store.close()


class _TracedTurn:
    def __init__(self, held: StoreTurn, store: TracedStore) -> None:
        self._held, self._store = held, store
        self.session = held.session

    @property
    def lost(self) -> bool:
        return self._held.lost

    async def cancelled(self) -> bool:
        return await self._held.cancelled()

    async def commit(self, session: Session, events: Sequence[OutboxEvent] = ()) -> Session:
        with self._store.span("commit", session.session_id):
            return await self._held.commit(session, events)
