"""`GET /voice/ws`: the hands-free voice conversation (`hands_free.py`) on a WebSocket. The key
comes in the start message or the headers (browsers cannot set WebSocket headers), so this
route checks it itself rather than through the HTTP routes' guard."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, WebSocket

from ..hands_free import HandsFreeConversation, Transport

router = APIRouter(tags=["voice"])


@router.websocket("/voice/ws")
async def voice_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    transport = Transport(websocket.receive, websocket.send_text, websocket.send_bytes,
                          dict(websocket.headers))
    await HandsFreeConversation(websocket.app.state.services, transport).run()
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.close()
