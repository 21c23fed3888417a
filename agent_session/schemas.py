"""Request and response bodies of the HTTP contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

ID_PATTERN = r"^[A-Za-z0-9._:@\-]+$"


class ChatRequest(BaseModel):
    session_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    query: str = Field(min_length=1, max_length=4000)


class ChatResponse(BaseModel):
    session_id: str
    query: str
    final_response: dict[str, Any]
    status_code: Literal["200", "201"]
    error: None = None


class MessageOut(BaseModel):
    model_config = {"extra": "allow"}
    role: str
    content: str


class SessionOut(BaseModel):
    session_id: str
    user_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    messages: list[MessageOut]
    result: dict[str, Any] | None


class SessionSummary(BaseModel):
    session_id: str
    user_id: str | None
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
