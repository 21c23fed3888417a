"""Session inspection and deletion."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from ..schemas import ID_PATTERN, Message, SessionList, SessionOut, SessionSummary, errors
from ..services import Services
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
    session = await services.manager.get(session_id)
    return SessionOut.model_validate({**session.model_dump(),
                                      "agent": session.agent or services.agents.default})


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
