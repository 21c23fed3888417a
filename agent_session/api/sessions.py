"""Session inspection and deletion."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from ..events import FinalResult, Question, UserMessage
from ..schemas import ID_PATTERN, Message, SessionList, SessionOut, SessionSummary, errors
from ..services import Services
from ..stores.base import Session
from .deps import get_services

router = APIRouter(tags=["sessions"])
SessionId = Path(min_length=1, max_length=128, pattern=ID_PATTERN)


@router.get("/session/{session_id}", response_model=SessionOut, operation_id="get_session",
            summary="Read a conversation",
            description="The stored conversation of `session_id`: every user message, the "
                        "agent's questions and actions in order, and `result`, the last "
                        "finished task's result (null until a turn answered status_code "
                        "\"200\"). Call it to recall what was said or what was booked; it "
                        "changes nothing.",
            response_description="The conversation so far.", responses=errors(401, 404))
async def get_session(session_id: str = SessionId,
                      services: Services = Depends(get_services)) -> SessionOut:
    return session_out(services, await services.manager.get(session_id))


def session_out(services: Services, session: Session) -> SessionOut:
    return SessionOut.model_validate({**session.model_dump(),
                                      "agent": session.agent or services.agents.default})


class Rewind(BaseModel):
    turns: int = Field(1, ge=1, le=1000, description="how many of the last user turns to "
                                                      "remove, with everything they caused")


@router.post("/session/{session_id}/rewind", response_model=SessionOut,
             operation_id="rewind_session", summary="Undo the last user turns",
             responses=errors(401, 404, 409))
async def rewind_session(session_id: str = SessionId, body: Rewind | None = Body(None),
                         services: Services = Depends(get_services)) -> SessionOut:
    """The session without its last `turns` user turns and all they caused; the next turn
    continues from there (the form's state, a pending confirmation and the last result are as
    they were before them). 409 while a turn runs on the session."""
    turns = body.turns if body is not None else 1
    return session_out(services, await services.manager.rewind(session_id, turns))


class Cancelled(BaseModel):
    cancelled: bool


@router.post("/session/{session_id}/cancel", response_model=Cancelled,
             operation_id="cancel_turn", summary="Stop the turn running on a session",
             responses=errors(401, 404))
async def cancel_turn(session_id: str = SessionId,
                      services: Services = Depends(get_services)) -> Cancelled:
    """The turn running on the session, on whichever replica holds it, stops within a second
    (a model call in progress too); its own request answers 409 and the session is as before
    that turn. `cancelled` is false when no turn was running."""
    return Cancelled(cancelled=await services.manager.cancel(session_id))


@router.get("/session/{session_id}/transcript", response_class=PlainTextResponse,
            operation_id="session_transcript", summary="The conversation as plain text",
            responses=errors(401, 404))
async def session_transcript(session_id: str = SessionId,
                             services: Services = Depends(get_services)) -> PlainTextResponse:
    """One line per message, `user: ...` and `agent: ...` (a result as the agent says it);
    actions are left out."""
    session = await services.manager.get(session_id)
    hosted = session.agent if session.agent in services.agents.names else None
    definition = services.agents.get(hosted).definition
    lines = []
    for event in session.messages:
        if isinstance(event, UserMessage):
            lines.append(f"user: {event.content}")
        elif isinstance(event, Question):
            lines.append(f"agent: {event.content}")
        elif isinstance(event, FinalResult):
            lines.append(f"agent: {definition.speak_result(event.result)}")
    text = "\n".join(" ".join(line.splitlines()) for line in lines)
    return PlainTextResponse(text + "\n" if text else "")


@router.delete("/session/{session_id}", response_model=Message, operation_id="delete_session",
               summary="End and forget a conversation",
               description="Deletes the conversation `session_id` and everything stored for "
                           "it. Call it when the user wants to start over or be forgotten; a "
                           "later `chat` with the same id starts a new conversation.",
               response_description="The session was deleted.", responses=errors(401, 404))
async def delete_session(session_id: str = SessionId,
                         services: Services = Depends(get_services)) -> Message:
    await services.manager.delete(session_id)
    return Message(message=f"Session {session_id} deleted.")


@router.get("/sessions", response_model=SessionList, operation_id="list_sessions",
            summary="List conversations", responses=errors(401))
async def list_sessions(
    user_id: str | None = Query(None, min_length=1, max_length=128, pattern=ID_PATTERN),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=512),
    services: Services = Depends(get_services),
) -> SessionList:
    try:
        sessions, next_cursor = await services.manager.list(user_id, limit, cursor)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return SessionList(
        sessions=[SessionSummary(**s.model_dump(exclude={"messages", "version"}),
                                 message_count=len(s.messages)) for s in sessions],
        next_cursor=next_cursor,
    )
