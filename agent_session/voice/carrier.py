"""What a carrier's media stream has in common (Twilio Media Streams, Exotel's voicebot stream):
JSON text messages (`connected`, `start`, `media` with base64 audio, `dtmf`, `mark`, `stop`),
our audio, marks and `clear` sent back the same way. A subclass names the fields and the codec.

Bad input closes that call only and says why in the log: media before `start`, garbage base64,
JSON that is not an object, a stream silent for `IDLE_SECONDS`; the session stays as its last
complete turn left it (a turn is written whole or not at all).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from typing import Any

import numpy as np
from fastapi import WebSocket

from ..errors import ServiceError
from ..services import Services
from .pipeline import Audio, Call, Digits, Dropped, Inbound, Played, Refusal, VoicePipeline

log = logging.getLogger(__name__)
START_TIMEOUT_SECONDS = 10.0  # `start` must come this soon after the socket opens
IDLE_SECONDS = 30.0  # a carrier sends media all through a call: this long without is a dead one
MAX_MESSAGE_CHARS = 256 * 1024


class CarrierStream:
    """A carrier's stream as a voice pipeline transport; subclasses fill in the protocol."""

    name = "carrier"
    confirms_playback = True
    sid_key = "streamSid"  # the stream id's key in our messages

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket
        self.stream_sid = ""
        self.in_rate = self.out_rate = 8000
        self.frame_seconds = 0.02

    # -- the protocol: what a subclass says -------------------------------------------------------

    async def begin(self, services: Services, start: dict[str, Any]) -> Call:
        """The call this `start` message opens (after checking it is bound or allowed)."""
        raise NotImplementedError

    def decode(self, payload: bytes) -> np.ndarray:
        raise NotImplementedError

    def encode(self, pcm: np.ndarray) -> bytes:
        raise NotImplementedError

    def digit(self, message: dict[str, Any]) -> str:
        return str((message.get("dtmf") or {}).get("digit") or "")

    # -- reading ----------------------------------------------------------------------------------

    async def _message(self, within: float) -> dict[str, Any] | None:
        """The next JSON message; None when the carrier closed the socket."""
        try:
            message = await asyncio.wait_for(self._ws.receive(), within)
        except TimeoutError:
            raise Refusal(408, f"Nothing from the carrier for {within:g} s.") from None
        if message.get("type") == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None and message.get("bytes") is not None:
            text = message["bytes"].decode("utf-8", "replace")
        if not text or len(text) > MAX_MESSAGE_CHARS:
            raise Refusal(400, "Expected a JSON text message of the media stream.")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise Refusal(400, "A message of the media stream is not JSON.") from None
        if not isinstance(parsed, dict):
            raise Refusal(400, "A message of the media stream is not a JSON object.")
        return parsed

    async def start(self, services: Services) -> Call:
        """Until `start` (after an optional `connected`): the call it opens."""
        while True:
            message = await self._message(START_TIMEOUT_SECONDS)
            if message is None:
                raise Dropped("left before starting")
            event = message.get("event")
            if event == "connected":
                continue
            if event != "start":
                raise Refusal(400, f"The stream sent {event!r} before 'start'.")
            return await self.begin(services, message)

    async def receive(self) -> Inbound | None:
        while True:
            message = await self._message(IDLE_SECONDS)
            if message is None:
                raise Dropped("the carrier closed the stream without 'stop'")
            event = message.get("event")
            if event == "media":
                payload = (message.get("media") or {}).get("payload")
                if not isinstance(payload, str):
                    raise Refusal(400, "A media message has no payload.")
                try:
                    data = base64.b64decode(payload, validate=True)
                except (binascii.Error, ValueError):
                    raise Refusal(400, "A media payload is not base64.") from None
                return Audio(self.decode(data))
            if event == "dtmf":
                if digit := self.digit(message):
                    return Digits(digit)
            elif event == "mark":
                return Played(str((message.get("mark") or {}).get("name", "")))
            elif event == "stop":
                return None
            # `connected`, a repeated `start`, events of later protocol versions: nothing to do

    # -- writing ----------------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        await self._ws.send_text(json.dumps({**message, self.sid_key: self.stream_sid}))

    async def send_audio(self, pcm: np.ndarray) -> None:
        payload = base64.b64encode(self.encode(pcm)).decode()
        await self._send({"event": "media", "media": {"payload": payload}})

    async def mark(self, name: str) -> None:
        await self._send({"event": "mark", "mark": {"name": name}})

    async def interrupted(self) -> None:
        await self._send({"event": "clear"})

    async def reply_started(self) -> None:
        return None

    async def reply_ended(self) -> None:
        return None

    async def notify(self, event: dict[str, Any]) -> None:
        if event.get("type") in ("transcript", "reply"):
            log.info("%s call %s: %s", self.name, self.stream_sid,
                     event.get("text") or event.get("query") or event.get("final_response"))


async def carrier_call(services: Services, stream: CarrierStream, websocket: WebSocket) -> None:
    """One phone call on an accepted socket: `start`, the pipeline until `stop`, the close. A
    refusal closes this call only, with its reason (and a log line)."""
    code, reason = 1000, "call ended"
    try:
        try:
            call = await stream.start(services)
        except ServiceError as exc:
            raise Refusal(exc.status_code, exc.detail) from None
        services.metrics.voice_calls.labels(stream.name).inc()
        await VoicePipeline(services, stream, call).run()
    except Refusal as refusal:
        log.warning("%s stream %s closed: %d %s", stream.name, stream.stream_sid or "-",
                    refusal.status, refusal.detail)
        code, reason = 1008, f"{refusal.status} {refusal.detail}"[:120]
    except Dropped as exc:
        log.info("%s stream %s dropped: %s", stream.name, stream.stream_sid or "-", exc)
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
