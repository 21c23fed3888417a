"""The OpenAI chat protocol in front of the agents: `POST /v1/chat/completions` and
`GET /v1/models`, for OpenAI clients and chat front ends, and for watsonx Orchestrate's external
agents (provider `external_chat`).

An agent is a model (`model` names it; without one, the default agent). The turn is the last
`user` message; the session is the thread: `X-IBM-THREAD-ID`, else `X-Thread-ID`, else the
body's `thread_id`, else a new one, and it goes back in the `X-Thread-ID` header. A question is
the assistant's content; a result is the agent's `result_speech` sentence, a blank line and the
result object as a fenced JSON block. Errors come in the OpenAI shape, with our statuses.

Streamed, an OpenAI client gets `chat.completion.chunk`s ending `data: [DONE]`; Orchestrate
(a body without `model`, which OpenAI clients always send, or an `X-IBM-THREAD-ID` header) gets
its own `thread.run.step.delta` (each action: its call, then its response) and
`thread.message.delta` events, as `data:` lines only, ending `data: [DONE]`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from ..errors import ServiceError
from ..schemas import ID_PATTERN
from ..services import Services
from .chat import turn_events
from .deps import get_services

router = APIRouter(tags=["openai"])
THREAD_HEADERS = ("x-ibm-thread-id", "x-thread-id")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return " ".join(p.text for p in self.content or [] if p.type == "text" and p.text)


class CompletionRequest(BaseModel):
    """What both OpenAI clients and Orchestrate send; other OpenAI fields are accepted and
    ignored (the agent decides what it says)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = Field(None, max_length=64)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    thread_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user: str | None = Field(None, max_length=128)


class ProtocolError(ServiceError):
    """A request the OpenAI protocol calls invalid (400 with a `param`)."""

    status_code = 400

    def __init__(self, detail: str, param: str) -> None:
        super().__init__(detail)
        self.param = param


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 409: "conflict_error",
               429: "rate_limit_error"}


def openai_error(status: int, message: str, param: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = "model_not_found" if param == "model" and status == 404 else None
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": code}}, status_code=status, headers=headers)


def _thread(request: Request, body: CompletionRequest) -> str | None:
    for header in THREAD_HEADERS:
        value = request.headers.get(header)
        if value:
            if not re.fullmatch(ID_PATTERN, value) or len(value) > 128:
                raise ProtocolError(f"The {header} header is not a valid thread id.", header)
            return value
    return body.thread_id


def _turn_of(body: CompletionRequest) -> str:
    text = next((m.text() for m in reversed(body.messages) if m.role == "user"), "").strip()
    if not text:
        raise ProtocolError("The messages hold no user message with text: the last user "
                            "message is the turn.", "messages")
    if len(text) > 4000:
        raise ProtocolError("The last user message is longer than 4000 characters.",
                            "messages")
    return text


def _user_of(body: CompletionRequest) -> str | None:
    return body.user if body.user and re.fullmatch(ID_PATTERN, body.user) else None


def content_of(services: Services, reply: dict[str, Any]) -> str:
    """The assistant's words for a `/chat` reply: the question, or the result's sentence and
    the result object as a JSON block."""
    if reply["status_code"] != "200":
        return reply["query"]
    definition = services.agents.get(reply["agent"]).definition
    result = reply["final_response"]
    return (f"{definition.speak_result(result)}\n\n```json\n"
            f"{json.dumps(result, ensure_ascii=False)}\n```")


def completion(completion_id: str, model: str, content: str,
               created: int) -> dict[str, Any]:
    return {"id": completion_id, "object": "chat.completion", "created": created,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def chunk(completion_id: str, model: str, created: int, delta: dict[str, Any],
          finish: Literal["stop"] | None = None) -> str:
    return json.dumps({"id": completion_id, "object": "chat.completion.chunk",
                       "created": created, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                    "logprobs": None}]})


def orchestrate_event(kind: str, thread_id: str, model: str, created: int,
                      delta: dict[str, Any]) -> str:
    """One event of Orchestrate's external-agent stream."""
    return json.dumps({"id": f"evt-{uuid.uuid4().hex}", "object": kind,
                       "thread_id": thread_id, "model": model, "created": created,
                       "choices": [{"delta": delta}]})


@router.get("/v1/models", operation_id="list_models", summary="The agents, as OpenAI models")
async def list_models(services: Services = Depends(get_services)) -> dict[str, Any]:
    return {"object": "list",
            "data": [{"id": agent.name, "object": "model", "created": 0,
                      "owned_by": "agent-session-service",
                      "description": agent.definition.description} for agent in services.agents]}


@router.post("/v1/chat/completions", operation_id="chat_completions",
             summary="One turn of an agent through the OpenAI chat protocol")
async def chat_completions(body: CompletionRequest, request: Request,
                           services: Services = Depends(get_services)):
    created = int(time.time())
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    try:
        if body.model is not None and body.model not in services.agents.names:
            return openai_error(404, f"The model {body.model!r} does not exist: the models "
                                     f"are this service's agents "
                                     f"({', '.join(services.agents.names)}).", "model")
        thread = _thread(request, body) or uuid.uuid4().hex
        query = _turn_of(body)
        orchestrate = body.model is None or "x-ibm-thread-id" in request.headers
        events = await turn_events(services, thread, _user_of(body), query, body.model)
    except ProtocolError as exc:
        return openai_error(exc.status_code, exc.detail, exc.param)
    except ServiceError as exc:
        return openai_error(exc.status_code, exc.detail, headers=exc.headers)
    headers = {"X-Thread-ID": thread}
    model = body.model or services.agents.default
    if not body.stream:
        async for kind, data in events:
            if kind == "error":
                return openai_error(data["status"], data["detail"], headers=headers)
            if kind in ("question", "final"):
                return JSONResponse(completion(completion_id, data["agent"],
                                               content_of(services, data), created),
                                    headers=headers)
        raise AssertionError("a turn ends with a question, a result or an error")

    async def openai_stream() -> AsyncIterator[dict[str, str]]:
        yield {"data": chunk(completion_id, model, created, {"role": "assistant",
                                                              "content": ""})}
        async for kind, data in events:
            if kind == "error":
                error = {"message": data["detail"], "type": ERROR_TYPES.get(
                    data["status"], "server_error"), "code": data["status"]}
                yield {"data": json.dumps({"error": error})}
                break
            if kind in ("question", "final"):
                yield {"data": chunk(completion_id, model, created,
                                     {"content": content_of(services, data)})}
                yield {"data": chunk(completion_id, model, created, {}, "stop")}
        yield {"data": "[DONE]"}

    async def orchestrate_stream() -> AsyncIterator[str]:
        """`data:` lines only (Orchestrate's validator reads no `event:`, `id:` or comment
        lines): each action as a tool call and its response, then the message, then
        `[DONE]`."""
        def line(kind: str, delta: dict[str, Any]) -> str:
            return f"data: {orchestrate_event(kind, thread, model, created, delta)}\n\n"

        async for kind, data in events:
            if kind == "step":
                call_id = f"call-{uuid.uuid4().hex[:12]}"
                yield line("thread.run.step.delta", {"role": "assistant", "step_details": {
                    "type": "tool_calls", "tool_calls": [{
                        "id": call_id, "name": data["action"], "args": data["args"]}]}})
                yield line("thread.run.step.delta", {"role": "assistant", "step_details": {
                    "type": "tool_response", "name": data["action"], "tool_call_id": call_id,
                    "content": json.dumps(data["observation"], ensure_ascii=False)}})
            elif kind == "error":
                yield line("thread.message.delta", {"role": "assistant", "content": (
                    f"Sorry, that failed ({data['status']}): {data['detail']}")})
            else:
                yield line("thread.message.delta", {"role": "assistant",
                                                    "content": content_of(services, data)})
        yield "data: [DONE]\n\n"

    if orchestrate:
        return StreamingResponse(orchestrate_stream(), media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache"})
    return EventSourceResponse(openai_stream(), headers=headers)
