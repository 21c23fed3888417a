"""Scripted carrier clients for the phone tests: Twilio Media Streams and Exotel's voicebot stream
as the carriers speak them to a bot (a `start`, caller audio as base64 `media` in real time,
`dtmf`, `stop`), playing our audio back in real time and returning each `mark` once the audio
before it has been played, as the carriers do; everything received is logged with its time."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from agent_session.voice.codecs import MulawDecoder, MulawEncoder, Resampler


@dataclass
class Received:
    at: float
    event: str
    message: dict[str, Any]
    audio_seconds: float = 0.0


@dataclass
class CarrierClient:
    """One call. `kind` is "twilio" (μ-law 8 kHz, camelCase) or "exotel" (PCM, snake_case)."""

    url: str
    kind: str = "twilio"
    rate: int = 8000
    headers: dict[str, str] = field(default_factory=dict)
    log: list[Received] = field(default_factory=list)
    ws: ClientConnection | None = None
    closed: tuple[int, str] | None = None
    _played_until: float = 0.0  # when the audio received so far will have finished playing
    _reader: asyncio.Task[None] | None = None
    _marks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def sid_key(self) -> str:
        return "streamSid" if self.kind == "twilio" else "stream_sid"

    async def __aenter__(self) -> CarrierClient:
        self.ws = await connect(self.url, additional_headers=self.headers, max_size=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=10)
        for task in self._marks:
            task.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def start(self, call_sid: str, stream_sid: str = "MZ1", **extra: Any) -> None:
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        if self.kind == "twilio":
            await self.send({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
                             "start": {"accountSid": "AC1", "streamSid": stream_sid,
                                       "callSid": call_sid, "tracks": ["inbound"],
                                       "customParameters": extra.get("parameters", {}),
                                       "mediaFormat": {"encoding": "audio/x-mulaw",
                                                       "sampleRate": 8000, "channels": 1}}})
        else:
            await self.send({"event": "start", "sequence_number": 1, "stream_sid": stream_sid,
                             "start": {"stream_sid": stream_sid, "call_sid": call_sid,
                                       "account_sid": "exo", "from": extra.get("caller", ""),
                                       "to": "08012345678", "custom_parameters": {},
                                       "media_format": {"encoding": "base64",
                                                        "sample_rate": str(self.rate),
                                                        "bit_rate": "128kbps"}}})
        self.stream_sid = stream_sid

    async def speak(self, pcm16k: np.ndarray, chunk_seconds: float = 0.02) -> float:
        """16 kHz int16 speech sent in real time as the carrier's media; returns when its last
        chunk went (the end of the caller's speech)."""
        audio = Resampler(16000, self.rate)(pcm16k)
        encode = MulawEncoder() if self.kind == "twilio" else (lambda p: p.astype("<i2").tobytes())
        step = int(self.rate * chunk_seconds)
        started = time.monotonic()
        for at in range(0, len(audio), step):
            payload = base64.b64encode(encode(audio[at:at + step])).decode()
            await self.send({"event": "media", self.sid_key: self.stream_sid,
                             "media": {"payload": payload}})
            due = started + (at + step) / self.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        return time.monotonic()

    async def silence(self, seconds: float) -> float:
        return await self.speak(np.zeros(int(16000 * seconds), dtype=np.int16))

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self.send({"event": "dtmf", self.sid_key: self.stream_sid,
                             "dtmf": {"track": "inbound_track", "digit": digit}})

    async def stop(self) -> None:
        await self.send({"event": "stop", self.sid_key: self.stream_sid, "stop": {}})

    async def _read(self) -> None:
        decode = MulawDecoder() if self.kind == "twilio" else None
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                now = time.monotonic()
                event = message.get("event", "?")
                seconds = 0.0
                if event == "media":
                    data = base64.b64decode(message["media"]["payload"])
                    samples = len(decode(data)) if decode else len(data) // 2
                    seconds = samples / self.rate
                    self._played_until = max(self._played_until, now) + seconds
                elif event == "clear":
                    self._played_until = now
                    for task in self._marks:
                        task.cancel()
                elif event == "mark":
                    task = asyncio.create_task(self._play_mark(message["mark"]["name"],
                                                               self._played_until))
                    self._marks.add(task)
                    task.add_done_callback(self._marks.discard)
                self.log.append(Received(now, event, message, seconds))
        except Exception:  # the service closed the socket
            pass
        finally:
            if self.ws.close_code is not None:
                self.closed = (self.ws.close_code, self.ws.close_reason or "")

    async def _play_mark(self, name: str, played_at: float) -> None:
        await asyncio.sleep(max(0.0, played_at - time.monotonic()))
        await self.send({"event": "mark", self.sid_key: self.stream_sid, "mark": {"name": name}})

    def events(self) -> list[str]:
        squeezed: list[str] = []
        for item in self.log:
            if not (item.event == "media" and squeezed and squeezed[-1] == "media"):
                squeezed.append(item.event)
        return squeezed

    async def wait_for(self, predicate, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {self.events()} closed={self.closed}")
            await asyncio.sleep(0.02)

    async def quiet(self, seconds: float = 0.8) -> None:
        """Until no audio came for `seconds` (a reply has been sent whole)."""
        while True:
            last = max((i.at for i in self.log if i.event == "media"), default=0.0)
            if last and time.monotonic() - last > seconds:
                return
            await asyncio.sleep(0.05)
