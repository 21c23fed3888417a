"""Request and response bodies of the HTTP contract."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from .session_manager import TurnResult

# Session and user ids; a user id may be a phone number as carriers send it (E.164, "+...").
ID_PATTERN = r"^\+?[A-Za-z0-9._:@\-]+$"
AGENT_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Outcome = Literal["final", "question", "confirm", "fallback", "handoff", "cancelled"]


class ChatRequest(BaseModel):
    session_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    query: str = Field(min_length=1, max_length=4000)
    agent: str | None = Field(None, min_length=1, max_length=64, pattern=AGENT_PATTERN,
                              description="The agent to talk to (default: the service's "
                                          "default agent); a session keeps its own.")


class AgentChatRequest(BaseModel):
    """`/agents/{agent}/chat`: the agent is in the path."""

    session_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    query: str = Field(min_length=1, max_length=4000)


class ChatResponse(BaseModel):
    session_id: str
    query: str
    final_response: dict[str, Any]
    status_code: Literal["200", "201"]
    error: None = None
    agent: str = Field(description="The agent that answered.")
    asking: str | None = Field(None, description="The slot the question asks for, if any.")
    outcome: Outcome = Field(description="final: the result is in final_response; question: "
                             "a question for the user; confirm: the result read back for a yes "
                             "or no; fallback: the agent could not go on and asks again; "
                             "handoff: the agent hands the user to a person (the task is "
                             "over); cancelled: the user dropped the task.")


class SlotOut(BaseModel):
    name: str
    type: str
    question: str
    required: bool


class AgentOut(BaseModel):
    name: str
    description: str
    strategy: str
    slots: list[SlotOut]
    result_schema: dict[str, Any]


class AgentList(BaseModel):
    agents: list[AgentOut]


class MessageOut(BaseModel):
    model_config = {"extra": "allow"}
    role: str
    content: str


class SessionOut(BaseModel):
    session_id: str
    user_id: str | None
    agent: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    messages: list[MessageOut]
    result: dict[str, Any] | None


class SessionSummary(BaseModel):
    session_id: str
    user_id: str | None
    agent: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    message_count: int
    result: dict[str, Any] | None


class SessionList(BaseModel):
    sessions: list[SessionSummary]
    next_cursor: str | None


class Message(BaseModel):
    message: str


class Health(BaseModel):
    status: str


class ErrorOut(BaseModel):
    """Every error the service raises: one sentence a caller (or its user) can act on."""

    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` for the listed error statuses (422 keeps FastAPI's own schema)."""
    return {code: {"model": ErrorOut, "description": ERROR_MEANINGS[code]} for code in codes}


ERROR_MEANINGS = {
    401: "The API key is missing or not valid.",
    403: "The session belongs to another user.",
    404: "No such session or agent: it never existed, was deleted or has expired.",
    409: "Another turn is still running on this session (retry shortly), or the session "
         "belongs to another agent.",
    429: "Too many requests for this key or user; retry after the Retry-After seconds.",
    502: "The language model answered something unusable.",
    503: "The language model is unreachable, busy or shutting down; retry after Retry-After.",
    504: "The turn did not finish in time; the session is unchanged, so the same query can be "
         "sent again.",
}


def to_response(turn: TurnResult) -> ChatResponse:
    """A turn's outcome as `/chat` answers it (every front shows the same)."""
    if turn.status == "final":
        return ChatResponse(session_id=turn.session_id, query="",
                            final_response=turn.result or {}, status_code="200",
                            agent=turn.agent, asking=None, outcome="final")
    return ChatResponse(session_id=turn.session_id, query=turn.question or "",
                        final_response={}, status_code="201", agent=turn.agent,
                        asking=turn.asking, outcome=turn.outcome)
