"""A carrier that stops reading, and a stream that goes silent without `stop`: each closes that
call only, with its reason, and the service's own services run it (in process: the carrier's
socket is a stub that can refuse to read, which a real client library cannot be made to do in
a test's time)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agent_session.voice import carrier, pipeline
from agent_session.voice.carrier import carrier_call
from agent_session.voice.twilio import TwilioStream, answer_call


class CarrierSocket:
    """Sends `start` for the call, then nothing; `reads` False: our sends never complete."""

    def __init__(self, call_sid: str, params: dict[str, str], reads: bool) -> None:
        self.headers: dict[str, str] = {}
        self.client = None
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._reads = reads
        self._inbox = [{"event": "connected"}, {
            "event": "start", "streamSid": "MZ9", "start": {
                "streamSid": "MZ9", "callSid": call_sid, "customParameters": params,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}]

    async def receive(self) -> dict[str, Any]:
        if self._inbox:
            return {"type": "websocket.receive", "text": json.dumps(self._inbox.pop(0))}
        await asyncio.sleep(3600)
        return {"type": "websocket.disconnect"}

    async def send_text(self, text: str) -> None:
        if not self._reads:
            await asyncio.sleep(3600)
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)


async def bound(services, call_sid: str) -> dict[str, str]:
    from xml.etree import ElementTree as ET

    twiml = await answer_call(services, {"CallSid": call_sid, "From": "+911234567890"}, None,
                              "https://calls.example.com/telephony/twilio/voice")
    stream = ET.fromstring(twiml).find("./Connect/Stream")
    assert stream.get("url") == "wss://calls.example.com/telephony/twilio/stream"
    return {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


async def test_a_carrier_that_stops_reading_is_dropped(harness_factory, monkeypatch):
    monkeypatch.setattr(pipeline, "SEND_TIMEOUT_SECONDS", 0.2)
    async with harness_factory(twilio_auth_token="t") as h:
        socket = CarrierSocket("CAslow", await bound(h.services, "CAslow"), reads=False)
        await asyncio.wait_for(carrier_call(h.services, TwilioStream(socket), socket), 5)
    assert socket.closed == (1000, "call ended") and socket.sent == []


async def test_a_stream_silent_without_stop_is_closed_with_its_reason(harness_factory,
                                                                       monkeypatch):
    monkeypatch.setattr(carrier, "IDLE_SECONDS", 0.3)
    async with harness_factory(twilio_auth_token="t") as h:
        socket = CarrierSocket("CAidle", await bound(h.services, "CAidle"), reads=True)
        await asyncio.wait_for(carrier_call(h.services, TwilioStream(socket), socket), 10)
        assert (await h.client.get("/session/CAidle")).status_code == 404  # no turn: nothing
    assert socket.closed[0] == 1008 and socket.closed[1].startswith("408")
