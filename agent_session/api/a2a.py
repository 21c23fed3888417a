"""A2A (Agent2Agent) in front of the agents, on the official `a2a-sdk`: `POST /a2a/{agent}`
(JSON-RPC; protocol 1.0 and, on the same endpoint, 0.3 as watsonx Orchestrate registers it)
and the agent cards, `/a2a/{agent}/.well-known/agent-card.json` and, for the default agent,
`/.well-known/agent-card.json`.

A task's `contextId` is our session: each message is one turn of the agent on it. A question
leaves the task `input-required` with the question as its status message; a result completes
it with the result object as a data part (and the agent's sentence as the status message);
with `message/stream`, each action is a `working` status update as it runs. Tasks are kept in
the session store (`put_record`), so any replica answers `tasks/get` and continues a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a2a.helpers.proto_helpers import new_data_part, new_task, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import create_jsonrpc_routes
from a2a.server.tasks import TaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    ListTasksRequest,
    ListTasksResponse,
    SecurityRequirement,
    SecurityScheme,
    StringList,
    Task,
    TaskState,
)
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.responses import Response

from .. import __version__
from ..agent.catalog import HostedAgent
from ..errors import ServiceError, UnknownAgent
from ..schemas import to_response
from ..services import Services
from .deps import get_services

router = APIRouter(tags=["a2a"])  # JSON-RPC: behind the API key
cards = APIRouter(tags=["a2a"])  # cards: public, discovery sends no key
TASK_KEY = "a2a:task:"


class SessionTaskStore(TaskStore):
    """A2A tasks as records in the session store: every replica sees the same tasks."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def save(self, task: Task, context: ServerCallContext | None = None) -> None:
        await self._services.store.put_record(
            TASK_KEY + task.id, json_format.MessageToJson(task),
            self._services.settings.session_ttl_seconds)

    async def get(self, task_id: str, context: ServerCallContext | None = None) -> Task | None:
        stored = await self._services.store.get_record(TASK_KEY + task_id)
        return json_format.Parse(stored, Task()) if stored else None  # "": deleted

    async def list(self, params: ListTasksRequest,
                   context: ServerCallContext | None = None) -> ListTasksResponse:
        """Not offered: a context's history is `GET /session/{contextId}`."""
        return ListTasksResponse()

    async def delete(self, task_id: str, context: ServerCallContext | None = None) -> None:
        """An empty record reads as no task (the stores keep records until they expire)."""
        await self._services.store.put_record(TASK_KEY + task_id, "",
                                              self._services.settings.session_ttl_seconds)


class SessionAgentExecutor(AgentExecutor):
    """One message of a task is one turn of the agent on the session named by `contextId`."""

    def __init__(self, services: Services, agent: HostedAgent) -> None:
        self._services, self._agent = services, agent

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = context.task_id or "", context.context_id or ""
        updater = TaskUpdater(event_queue, task_id, context_id)
        if context.current_task is None:  # a new task: the SDK wants the Task first
            await event_queue.enqueue_event(new_task(
                task_id, context_id, TaskState.TASK_STATE_SUBMITTED,
                history=[context.message] if context.message else []))
        await updater.start_work()

        async def step(event: dict[str, Any]) -> None:
            await updater.update_status(TaskState.TASK_STATE_WORKING, new_text_message(
                f"{event['action']}: done", context_id=context_id, task_id=task_id),
                metadata={"action": event["action"], "args": event["args"],
                          "observation": event["observation"], "ms": event["ms"]})

        try:
            turn = await self._services.manager.turn(context_id, None,
                                                     context.get_user_input()[:4000], step,
                                                     agent=self._agent.name)
        except ServiceError as exc:
            await updater.failed(new_text_message(exc.detail, context_id=context_id,
                                                  task_id=task_id))
            return
        reply = to_response(turn)
        if reply.status_code == "200":
            result = reply.final_response
            await updater.add_artifact([new_data_part(result)], name="result")
            await updater.complete(new_text_message(
                self._agent.definition.speak_result(result), context_id=context_id,
                task_id=task_id))
        else:
            await updater.requires_input(new_text_message(reply.query, context_id=context_id,
                                                          task_id=task_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """The running turn (if any) stops through the session's own cancel."""
        if context.context_id:
            await self._services.manager.cancel(context.context_id)
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()


def agent_card(agent: HostedAgent, base_url: str, keys: bool) -> AgentCard:
    url = f"{base_url.rstrip('/')}/a2a/{agent.name}"
    card = AgentCard(
        name=agent.name, description=agent.definition.description or agent.name,
        version=__version__,
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"),
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"], default_output_modes=["text/plain",
                                                                  "application/json"],
        skills=[AgentSkill(id=agent.name, name=agent.name,
                           description=agent.definition.description or agent.name,
                           tags=[agent.strategy.name],
                           examples=[e.message for e in (agent.definition.form.examples
                                                         if agent.definition.form else [])])])
    if keys:
        card.security_schemes["ApiKeyAuth"].CopyFrom(SecurityScheme(
            api_key_security_scheme=APIKeySecurityScheme(location="header", name="x-api-key")))
        card.security_schemes["BearerAuth"].CopyFrom(SecurityScheme(
            http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="bearer")))
        for name in ("ApiKeyAuth", "BearerAuth"):
            requirement = SecurityRequirement()
            requirement.schemes[name].CopyFrom(StringList())
            card.security_requirements.append(requirement)
    return card


@dataclass
class A2AFront:
    """Per agent, the SDK's request handler and JSON-RPC endpoint, built once."""

    endpoints: dict[str, Any]

    @classmethod
    def build(cls, services: Services) -> A2AFront:
        store = SessionTaskStore(services)
        endpoints = {}
        for agent in services.agents:
            card = agent_card(agent, services.settings.public_base_url or "http://localhost",
                              bool(services.settings.api_keys))
            handler = DefaultRequestHandler(SessionAgentExecutor(services, agent), store, card)
            route = create_jsonrpc_routes(handler, f"/a2a/{agent.name}",
                                          enable_v0_3_compat=True)[0]
            endpoints[agent.name] = route.endpoint
        return cls(endpoints)


def front_of(services: Services) -> A2AFront:
    if services.a2a is None:
        services.a2a = A2AFront.build(services)
    return services.a2a


def base_url(request: Request, services: Services) -> str:
    return services.settings.public_base_url or str(request.base_url)


@router.post("/a2a/{agent}", include_in_schema=False)
async def a2a_rpc(agent: str, request: Request,
                  services: Services = Depends(get_services)) -> Response:
    endpoint = front_of(services).endpoints.get(agent)
    if endpoint is None:
        raise UnknownAgent(f"No agent {agent!r}; this service runs "
                           f"{', '.join(services.agents.names)}.")
    return await endpoint(request)


@cards.get("/a2a/{agent}/.well-known/agent-card.json", include_in_schema=False)
async def a2a_card(agent: str, request: Request,
                   services: Services = Depends(get_services)) -> JSONResponse:
    hosted = services.agents.get(agent)
    return JSONResponse(agent_card_to_dict(agent_card(hosted, base_url(request, services),
                                                      bool(services.settings.api_keys))))


@cards.get("/.well-known/agent-card.json", include_in_schema=False)
async def default_card(request: Request,
                       services: Services = Depends(get_services)) -> JSONResponse:
    hosted = services.agents.get(None)
    return JSONResponse(agent_card_to_dict(agent_card(hosted, base_url(request, services),
                                                      bool(services.settings.api_keys))))

