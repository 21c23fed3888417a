"""`POST /chat`: one conversational turn."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..schemas import ChatRequest, ChatResponse
from ..services import Services
from .deps import get_services

router = APIRouter(tags=["chat"])


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, services: Services = Depends(get_services)) -> ChatResponse:
    turn = await services.manager.turn(body.session_id, body.user_id, body.query)
    if turn.status == "final":
        return ChatResponse(session_id=turn.session_id, query="",
                            final_response=turn.result or {}, status_code="200")
    return ChatResponse(session_id=turn.session_id, query=turn.question or "",
                        final_response={}, status_code="201")
