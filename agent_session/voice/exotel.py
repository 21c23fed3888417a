"""Exotel's voicebot stream (`GET /telephony/exotel/stream`) as a voice pipeline transport: the
same events as Twilio's with snake_case keys (`stream_sid`, `call_sid`), 16-bit little-endian
PCM at 8 kHz (or `?sample-rate=16000|24000`), and our audio sent back in chunks of a multiple of
320 bytes, at least 3,200 (we send 3,200: the least audio queued ahead of a barge-in).

Exotel's applet reaches us at a URL the account configures, with no webhook first: the stream is
checked at the edge like an HTTP call (an API key as the password of the URL's basic auth,
`wss://any:KEY@host/...`, or in `X-API-Key`), the caller's number is the session's user and the
`call_sid` its session id; the agent comes from `?agent=`, else the default.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import numpy as np
from fastapi import WebSocket

from ..access import check_key, check_session, key_in_headers, limit_caller
from ..schemas import ID_PATTERN
from ..services import Services
from .carrier import CarrierStream
from .pipeline import Call, Refusal

RATES = (8000, 16000, 24000)
CHUNK_BYTES = 3200  # the least Exotel takes; a multiple of 320

_ID = re.compile(ID_PATTERN)


def basic_password(headers: Any) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip()).decode().partition(":")[2] or None
    except (binascii.Error, UnicodeDecodeError):
        return None


class ExotelStream(CarrierStream):
    name = "exotel"
    sid_key = "stream_sid"

    def __init__(self, websocket: WebSocket, rate: int, agent: str | None) -> None:
        super().__init__(websocket)
        self.in_rate = self.out_rate = rate
        self.frame_seconds = CHUNK_BYTES / 2 / rate
        self._agent = agent
        self._odd = b""

    async def begin(self, services: Services, start: dict[str, Any]) -> Call:
        key = basic_password(self._ws.headers) or key_in_headers(self._ws.headers)
        check_key(services, key, "as the password of the stream URL's basic auth "
                                 "(wss://any:KEY@host/...) or in X-API-Key")
        address = self._ws.client.host if self._ws.client else None
        await limit_caller(services, key, address)
        details = start.get("start") or {}
        self.stream_sid = str(start.get("stream_sid") or details.get("stream_sid") or "")
        call_sid = str(details.get("call_sid") or "")
        if not call_sid or not _ID.match(call_sid) or len(call_sid) > 128:
            raise Refusal(400, "The start message has no usable call_sid.")
        number = str(details.get("from") or "")
        user_id = number if number and _ID.match(number) and len(number) <= 128 else None
        agent = self._agent or (details.get("custom_parameters") or {}).get("agent")
        agent_name = services.agents.get(agent).name  # 404 for an unknown agent
        await check_session(services, call_sid, user_id, agent_name)
        return Call(call_sid, user_id, agent_name,
                    services.agents.get(agent_name).definition.greeting)

    def digit(self, message: dict[str, Any]) -> str:
        return str((message.get("dtmf") or {}).get("digit") or "")

    def decode(self, payload: bytes) -> np.ndarray:
        data = self._odd + payload  # a chunk may split a sample: the odd byte waits
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        return np.frombuffer(data[:cut], dtype="<i2")

    def encode(self, pcm: np.ndarray) -> bytes:
        return pcm.astype("<i2").tobytes()
