"""The agents this service runs: `GET /agents`, `GET /agents/{agent}`, and a turn with one
named in the path (`POST /agents/{agent}/chat` and its stream)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from sse_starlette.sse import EventSourceResponse

from ..schemas import AGENT_PATTERN, AgentChatRequest, AgentList, AgentOut, ChatResponse, errors
from ..services import Services
from .chat import CHAT_DESCRIPTION, one_turn, streamed_turn
from .deps import get_services

router = APIRouter(tags=["agents"])
AgentName = Path(min_length=1, max_length=64, pattern=AGENT_PATTERN)


@router.get("/agents", response_model=AgentList, operation_id="list_agents",
            summary="The agents this service runs", responses=errors(401))
async def list_agents(services: Services = Depends(get_services)) -> AgentList:
    return AgentList(agents=[AgentOut.model_validate(a.describe()) for a in services.agents])


@router.get("/agents/{agent}", response_model=AgentOut, operation_id="get_agent",
            summary="One agent: its slots and result schema", responses=errors(401, 404))
async def get_agent(agent: str = AgentName,
                    services: Services = Depends(get_services)) -> AgentOut:
    return AgentOut.model_validate(services.agents.get(agent).describe())


@router.post("/agents/{agent}/chat", response_model=ChatResponse, operation_id="agent_chat",
             summary="Talk to one agent (one turn)", description=CHAT_DESCRIPTION,
             response_description="The agent's question (status_code \"201\") or its result "
                                  "(\"200\"), with the session_id to pass back.",
             responses=errors(401, 403, 404, 409, 429, 502, 503, 504))
async def agent_chat(body: AgentChatRequest, agent: str = AgentName,
                     services: Services = Depends(get_services)) -> ChatResponse:
    return await one_turn(services, body, agent)


@router.post("/agents/{agent}/chat/stream", response_class=EventSourceResponse,
             operation_id="agent_chat_stream", summary="One turn of one agent as server-sent "
             "events", responses={200: {"content": {"text/event-stream": {}}},
                                  **errors(401, 403, 404, 409, 429)})
async def agent_chat_stream(body: AgentChatRequest, agent: str = AgentName,
                            services: Services = Depends(get_services)) -> EventSourceResponse:
    return await streamed_turn(services, body, agent)
