"""Twilio: the voice webhook (`POST /telephony/twilio/voice`) answers TwiML that connects the call
to our media stream (`GET /telephony/twilio/stream`), and the stream as a voice pipeline
transport: μ-law at 8 kHz both ways in 20 ms frames, `mark` to learn what the caller heard,
`clear` on barge-in, keypad digits (`dtmf`) as the caller's words, `stop` to end.

The webhook is checked with the `twilio` package's `RequestValidator` (`X-Twilio-Signature`,
`TWILIO_AUTH_TOKEN`) and binds the stream to the call: a one-time token kept in the session
store under the call's id (any replica may get the stream) and passed as a stream `<Parameter>`;
a stream whose `start` does not carry its call's token is closed. The caller's number (E.164,
"+...") is the session's user, the `CallSid` its session id.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from fastapi import WebSocket
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

from ..access import check_session, limit_user
from ..services import Services
from .carrier import CarrierStream
from .codecs import MulawDecoder, MulawEncoder
from .pipeline import Call, Refusal

BIND_KEY = "twilio:call:"
BIND_SECONDS = 600  # the stream must start within this of the webhook's answer
STREAM_PATH = "/telephony/twilio/stream"


class BadSignature(Exception):
    """The webhook is not signed by the account's auth token."""


def check_signature(auth_token: str, url: str, form: dict[str, str],
                    signature: str | None) -> None:
    if not signature or not RequestValidator(auth_token).validate(url, form, signature):
        raise BadSignature


def stream_url(public_url: str) -> str:
    """The stream's `wss://` (or `ws://`) URL on the host the webhook was called at."""
    parts = urlsplit(public_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, STREAM_PATH, "", ""))


async def answer_call(services: Services, form: dict[str, str], agent: str | None,
                      public_url: str) -> str:
    """The TwiML for a call the webhook announced: bind a stream to it and connect it."""
    agent_name = services.agents.get(agent).name  # 404 for an unknown agent
    call_sid = form.get("CallSid", "")
    if not call_sid:
        raise Refusal(400, "The webhook has no CallSid.")
    caller = caller_id(form.get("From"))
    await limit_user(services, caller)
    token = secrets.token_urlsafe(24)
    await services.store.put_record(BIND_KEY + call_sid, json.dumps(
        {"token": token, "agent": agent_name, "user_id": caller}), BIND_SECONDS)
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url(public_url))
    stream.parameter(name="call", value=call_sid)
    stream.parameter(name="token", value=token)
    response.append(connect)
    return str(response)


def caller_id(number: str | None) -> str | None:
    """The caller's number as the session's user id: kept as Twilio sends it (E.164, with its
    '+', which user ids allow); None for a withheld number or a client (`client:...`)."""
    if not number or not number.startswith("+") or not number[1:].isdigit():
        return None
    return number


class TwilioStream(CarrierStream):
    name = "twilio"
    sid_key = "streamSid"

    def __init__(self, websocket: WebSocket) -> None:
        super().__init__(websocket)
        self._decode, self._encode = MulawDecoder(), MulawEncoder()

    async def begin(self, services: Services, start: dict[str, Any]) -> Call:
        details = start.get("start") or {}
        self.stream_sid = str(details.get("streamSid") or start.get("streamSid") or "")
        params = details.get("customParameters") or {}
        call_sid = str(details.get("callSid") or params.get("call") or "")
        stored = await services.store.get_record(BIND_KEY + call_sid) if call_sid else None
        bound = json.loads(stored) if stored else None
        token = str(params.get("token") or "")
        if bound is None or not hmac.compare_digest(token.encode(), bound["token"].encode()):
            raise Refusal(403, f"The stream is not bound to a call this service answered "
                               f"(call {call_sid or '?'}).")
        fmt = details.get("mediaFormat") or {}
        if fmt and (fmt.get("encoding") != "audio/x-mulaw" or int(fmt.get("sampleRate", 8000))
                    != 8000):
            raise Refusal(415, f"Expected audio/x-mulaw at 8000 Hz, got {fmt}.")
        await check_session(services, call_sid, bound["user_id"], bound["agent"])
        greeting = services.agents.get(bound["agent"]).definition.greeting
        return Call(call_sid, bound["user_id"], bound["agent"], greeting)

    def decode(self, payload: bytes) -> np.ndarray:
        return self._decode(payload)

    def encode(self, pcm: np.ndarray) -> bytes:
        return self._encode(pcm)
