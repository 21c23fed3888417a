"""Session inspection and deletion."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from ..schemas import ID_PATTERN, Message, SessionList, SessionOut, SessionSummary
from ..services import Services
from .deps import get_services

router = APIRouter(tags=["sessions"])
SessionId = Path(min_length=1, max_length=128, pattern=ID_PATTERN)


@router.get("/session/{session_id}", response_model=SessionOut)
async def get_session(session_id: str = SessionId,
                      services: Services = Depends(get_services)) -> SessionOut:
    session = await services.manager.get(session_id)
    return SessionOut.model_validate(session.model_dump())


@router.delete("/session/{session_id}", response_model=Message)
async def delete_session(session_id: str = SessionId,
                         services: Services = Depends(get_services)) -> Message:
    await services.manager.delete(session_id)
    return Message(message=f"Session {session_id} deleted.")


@router.get("/sessions", response_model=SessionList)
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
