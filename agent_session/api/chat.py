"""`POST /chat` (one turn) and `POST /chat/stream` (the same turn as server-sent events)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from fastapi import APIRouter, Depends
from sse_starlette.sse import EventSourceResponse

from ..errors import ServiceError
from ..schemas import AgentChatRequest, ChatRequest, ChatResponse, errors, to_response
from ..services import Services
from .deps import get_services, limit_user

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)


CHAT_DESCRIPTION = """Send the user's words to the agent and get its next step.

Call this for every message of the user while the task (for the bundled agent: booking a cab) is
under way. The first call may leave out `session_id`; the answer always carries one, and every
later call of the same conversation must pass that `session_id` back, with the same `user_id`.

The answer's `status_code` says what happened:
- "201": the agent needs more information. `query` is the question to ask the user, word for
  word; send the user's reply in the next call.
- "200": the task is done. `final_response` holds the result (for a cab: pickup_location,
  destination, date as YYYY-MM-DD, time as HH:MM, preferences) and `query` is empty.
"""


@router.post("/chat", response_model=ChatResponse, operation_id="chat",
             summary="Talk to the agent (one turn)", description=CHAT_DESCRIPTION,
             response_description="The agent's question (status_code \"201\") or its result "
                                  "(\"200\"), with the session_id to pass back.",
             responses=errors(401, 403, 404, 409, 429, 502, 503, 504))
async def chat(body: ChatRequest, services: Services = Depends(get_services)) -> ChatResponse:
    return await one_turn(services, body, body.agent)


@router.post("/chat/stream", response_class=EventSourceResponse, operation_id="chat_stream",
             summary="One turn as server-sent events",
             responses={200: {"content": {"text/event-stream": {}}},
                        **errors(401, 403, 404, 409, 429)})
async def chat_stream(body: ChatRequest,
                      services: Services = Depends(get_services)) -> EventSourceResponse:
    """`step` events as actions run, then one `question`, `final` or `error` event. A busy or
    foreign session fails before the stream starts (409, 403); a client that disconnects
    cancels the turn, which then saves nothing."""
    return await streamed_turn(services, body, body.agent)


async def one_turn(services: Services, body: ChatRequest | AgentChatRequest,
                   agent: str | None) -> ChatResponse:
    await limit_user(services, body.user_id)
    return to_response(await services.manager.turn(body.session_id, body.user_id, body.query,
                                                   agent=agent))


async def streamed_turn(services: Services, body: ChatRequest | AgentChatRequest,
                        agent: str | None) -> EventSourceResponse:
    events = await turn_events(services, body.session_id, body.user_id, body.query, agent)

    async def sse() -> AsyncIterator[dict[str, str]]:
        async for kind, data in events:
            yield {"event": kind, "data": json.dumps(data, default=str)}

    return EventSourceResponse(sse())


async def turn_events(services: Services, session_id: str | None, user_id: str | None,
                      query: str, agent: str | None
                      ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """One turn as events, for every streaming front (this SSE, the OpenAI protocol's): any
    `step`s as actions run, then one `question`, `final` (the `/chat` body) or `error`
    (`status`, `detail`). The rate limit, the agent, the lock and ownership are checked here,
    before the first event (so they are plain HTTP errors); a consumer that stops reading
    cancels the turn, which then saves nothing."""
    await limit_user(services, user_id)
    stack = AsyncExitStack()
    turn = await stack.enter_async_context(
        services.manager.open_turn(session_id, user_id, agent))
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def on_step(step: dict[str, Any]) -> None:
        await queue.put(("step", step))

    async def run() -> None:
        try:
            result = to_response(await services.manager.play(turn, query, on_step))
            await queue.put(("final" if result.status_code == "200" else "question",
                             result.model_dump()))
        except ServiceError as exc:
            await queue.put(("error", {"status": exc.status_code, "detail": exc.detail}))
        except Exception:
            log.exception("streamed turn failed")
            await queue.put(("error", {"status": 500, "detail": "Internal error; logged."}))

    async def events() -> AsyncIterator[tuple[str, dict[str, Any]]]:
        task = asyncio.create_task(run())
        try:
            while True:
                kind, data = await queue.get()
                yield kind, data
                if kind != "step":
                    break
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await stack.aclose()

    return events()
