"""`GET /voice/ws`: the hands-free voice conversation on a WebSocket (`voice/browser.py`, a
transport of the one voice pipeline). The key comes in the start message or the headers
(browsers cannot set WebSocket headers), so the transport checks it through the same edge as the
HTTP routes (`access.py`) rather than through their dependency."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from ..voice.browser import browser_call

router = APIRouter(tags=["voice"])


@router.websocket("/voice/ws")
async def voice_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await browser_call(websocket.app.state.services, websocket)
