"""The browser's hands-free socket (`GET /voice/ws`) as a transport of the voice pipeline: a JSON
`start` message (key, session, user, agent, sample rate), then binary 16-bit PCM frames and
`{"type": "stop"}`; out go JSON events (ready, speech_started/ended, transcript, step, reply,
audio_start, audio_end, interrupted, error) and the reply's PCM as binary frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Literal

import numpy as np
from fastapi import WebSocket
from pydantic import BaseModel, Field, ValidationError

from ..access import check_key, check_session, key_in_headers, limit_caller
from ..errors import ServiceError
from ..schemas import AGENT_PATTERN, ID_PATTERN
from ..services import Services
from .pipeline import Audio, Call, Dropped, Inbound, Refusal, VoicePipeline

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 256 * 1024  # one binary frame: 8 s of 16 kHz audio
START_TIMEOUT_SECONDS = 10.0  # a socket that never says `start` is closed


class Start(BaseModel):
    type: Literal["start"]
    session_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    agent: str | None = Field(None, min_length=1, max_length=64, pattern=AGENT_PATTERN)
    api_key: str | None = Field(None, max_length=512)
    sample_rate: int = Field(16000, ge=8000, le=48000)  # resampled to 16 kHz by the pipeline


class BrowserTransport:
    name = "browser"
    frame_seconds = 0.04
    confirms_playback = False

    def __init__(self, websocket: WebSocket, out_rate: int) -> None:
        self._ws = websocket
        self.in_rate = 16000
        self.out_rate = out_rate
        self._odd_byte = b""

    async def send_json(self, event: dict[str, Any]) -> None:
        await self._ws.send_text(json.dumps(event, default=str))

    async def start(self, services: Services) -> Call:
        """The first message must be `start`: the key, the session's owner, the audio rate;
        then the same edge as HTTP (key, caller's rate limit, the session's owner and agent)."""
        try:
            message = await asyncio.wait_for(self._ws.receive(), START_TIMEOUT_SECONDS)
        except TimeoutError:
            raise Refusal(408, f"No start message within {START_TIMEOUT_SECONDS:g} s.") from None
        if message.get("type") == "websocket.disconnect":
            raise Dropped("left before starting")
        text = message.get("text")
        if text is None:
            raise Refusal(400, "Send the start message first: {\"type\": \"start\", "
                               "\"sample_rate\": 16000}.")
        try:
            start = Start.model_validate_json(text)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "message"
            raise Refusal(422, f"The start message is not valid: {where}: "
                               f"{problem['msg']}.") from None
        key = start.api_key or key_in_headers(self._ws.headers)
        check_key(services, key, "as api_key in the start message, in X-API-Key or as a "
                                 "Bearer token")
        address = self._ws.client.host if self._ws.client else None
        await limit_caller(services, key, address)
        await check_session(services, start.session_id, start.user_id, start.agent)
        self.in_rate = start.sample_rate
        return Call(start.session_id, start.user_id, start.agent)

    async def receive(self) -> Inbound | None:
        message = await self._ws.receive()
        if message.get("type") == "websocket.disconnect":
            raise Dropped("left")
        data = message.get("bytes")
        if data is not None:
            if len(data) > MAX_MESSAGE_BYTES:
                raise Refusal(413, f"An audio frame is larger than {MAX_MESSAGE_BYTES} bytes; "
                                   "send smaller frames.")
            data = self._odd_byte + data  # a frame may split a sample: the odd byte waits
            cut = len(data) - len(data) % 2
            self._odd_byte = data[cut:]
            return Audio(np.frombuffer(data[:cut], dtype="<i2"))
        try:
            control = json.loads(message.get("text") or "")
        except json.JSONDecodeError:
            raise Refusal(400, "A text message must be JSON: {\"type\": \"stop\"}.") from None
        if isinstance(control, dict) and control.get("type") == "stop":
            return None
        raise Refusal(400, "After start, send audio frames or {\"type\": \"stop\"}.")

    async def send_audio(self, pcm: np.ndarray) -> None:
        await self._ws.send_bytes(pcm.astype("<i2").tobytes())

    async def mark(self, name: str) -> None:
        return None  # a browser plays what it gets: what was sent is what was heard

    async def reply_started(self) -> None:
        await self.send_json({"type": "audio_start", "mime": f"audio/pcm;rate={self.out_rate}"})

    async def reply_ended(self) -> None:
        await self.send_json({"type": "audio_end"})

    async def interrupted(self) -> None:
        await self.send_json({"type": "interrupted"})

    async def notify(self, event: dict[str, Any]) -> None:
        await self.send_json(event)


async def browser_call(services: Services, websocket: WebSocket) -> None:
    """One hands-free conversation on an accepted socket, closed at its end."""
    transport = BrowserTransport(websocket, services.speech.tts.sample_rate)
    try:
        try:
            call = await transport.start(services)
        except ServiceError as exc:
            raise Refusal(exc.status_code, exc.detail) from None
        await transport.send_json({"type": "ready"})
        await VoicePipeline(services, transport, call).run()
    except Refusal as refusal:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(transport.send_json(
                {"type": "error", "status": refusal.status, "detail": refusal.detail}), 5)
    except Dropped:
        log.info("voice socket dropped: the client left or stopped reading")
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.close()
