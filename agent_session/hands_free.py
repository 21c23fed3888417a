"""A hands-free voice conversation over one WebSocket (`GET /voice/ws`): audio streams in, the
server hears when an utterance ends, runs it as a `/chat` turn on the session and streams the
spoken reply back, which the user may talk over (barge-in).

Three things run at once per socket: the listener (frames in, voice activity, end of utterance),
the turn runner (one utterance at a time: transcribe, the turn, the reply) and, while a reply is
spoken, its speaker (paced in real time, so stopping it on barge-in stops what the client has
not yet received). Every message out goes through one sender with a deadline: a client that
stops reading is dropped, the process is not held up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from .api.chat import to_response
from .api.deps import key_accepted, key_in_headers
from .errors import ServiceError, SessionNotFound
from .schemas import AGENT_PATTERN, ID_PATTERN
from .services import Services
from .speech.audio import Clip, PcmResampler
from .speech.utterances import UtteranceDetector, UtteranceSettings
from .speech.vad import VadStream

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 256 * 1024  # one binary frame: 8 s of 16 kHz audio
SEND_TIMEOUT_SECONDS = 5.0  # a client that reads nothing for this long is dropped
START_TIMEOUT_SECONDS = 10.0  # a socket that never says `start` is closed
FRAME_SECONDS = 0.04  # reply audio goes out in 40 ms frames...
LEAD_SECONDS = 0.25  # ...at most this far ahead of real time


class Start(BaseModel):
    type: Literal["start"]
    session_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    user_id: str | None = Field(None, min_length=1, max_length=128, pattern=ID_PATTERN)
    agent: str | None = Field(None, min_length=1, max_length=64, pattern=AGENT_PATTERN)
    api_key: str | None = Field(None, max_length=512)
    sample_rate: int = Field(16000, ge=8000, le=48000)  # resampled to 16 kHz here


class Refusal(Exception):
    """Ends the conversation with an `error` event: `status` as the HTTP routes would answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Dropped(Exception):
    """The client stopped reading (or left): nothing more can be sent."""


@dataclass
class Transport:
    """What the conversation needs of the socket (Starlette's WebSocket, or a test double)."""

    receive: Callable[[], Awaitable[dict[str, Any]]]
    send_text: Callable[[str], Awaitable[None]]
    send_bytes: Callable[[bytes], Awaitable[None]]
    headers: dict[str, str]


class HandsFreeConversation:
    def __init__(self, services: Services, transport: Transport) -> None:
        self._services = services
        self._io = transport
        settings = services.settings
        self._detector = UtteranceDetector(UtteranceSettings(
            silence_ms=settings.vad_silence_ms, min_speech_ms=settings.vad_min_speech_ms,
            max_seconds=settings.max_audio_seconds))
        self._send_lock = asyncio.Lock()
        self._utterances: asyncio.Queue[tuple[np.ndarray, asyncio.Task[str]] | None] = \
            asyncio.Queue()
        self._early: tuple[int, asyncio.Task[str]] | None = None  # transcribing from a pause
        self._speaker: asyncio.Task[None] | None = None
        self._odd_byte = b""
        self._resample = PcmResampler(16000)
        self.session_id: str | None = None
        self.user_id: str | None = None
        self.agent: str | None = None

    # -- sending --------------------------------------------------------------------------------

    async def send(self, event: dict[str, Any]) -> None:
        await self._send(self._io.send_text, json.dumps(event, default=str))

    async def _send(self, send: Callable[[Any], Awaitable[None]], data: Any) -> None:
        async with self._send_lock:
            try:
                await asyncio.wait_for(send(data), SEND_TIMEOUT_SECONDS)
            except (TimeoutError, RuntimeError, OSError) as exc:
                raise Dropped(str(exc) or "the client is not reading") from None

    # -- the conversation -----------------------------------------------------------------------

    async def run(self) -> None:
        """Until `stop`, the client leaves, or an error event (then the caller closes)."""
        try:
            await self._begin()
            await self.send({"type": "ready"})
            listener = asyncio.create_task(self._listen())
            runner = asyncio.create_task(self._run_turns())
            try:
                done, _ = await asyncio.wait({listener, runner},
                                             return_when=asyncio.FIRST_COMPLETED)
                if listener in done:
                    listener.result()  # a refusal or a drop ends it here
                    await self._utterances.put(None)  # stop: the last turn finishes first
                    await runner
                else:
                    runner.result()
            finally:
                self._drop_early()
                for task in (listener, runner, self._speaker):
                    if task is not None and not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task
        except Refusal as refusal:
            await self._refuse(refusal)
        except Dropped:
            log.info("voice socket dropped: the client left or stopped reading")

    async def _refuse(self, refusal: Refusal) -> None:
        with contextlib.suppress(Dropped):
            await self.send({"type": "error", "status": refusal.status,
                             "detail": refusal.detail})

    async def _begin(self) -> None:
        """The first message must be `start`: the key, the session's owner, the audio rate."""
        try:
            message = await asyncio.wait_for(self._io.receive(), START_TIMEOUT_SECONDS)
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
        keys = self._services.settings.api_keys
        if keys and not key_accepted(keys, start.api_key or key_in_headers(self._io.headers)):
            raise Refusal(401, "An API key is required: send it as api_key in the start "
                               "message, in X-API-Key or as a Bearer token.")
        if not self._services.manager.taking_turns:
            raise Refusal(503, "This instance is shutting down; connect again.")
        if start.agent is not None and start.agent not in self._services.agents.names:
            raise Refusal(404, f"No agent {start.agent!r}; this service runs "
                               f"{', '.join(self._services.agents.names)}.")
        if start.session_id is not None:
            with contextlib.suppress(SessionNotFound):
                stored = await self._services.manager.get(start.session_id)
                if stored.user_id is not None and stored.user_id != start.user_id:
                    raise Refusal(403, "This session belongs to another user.")
                own = stored.agent or self._services.agents.default
                if start.agent is not None and start.agent != own:
                    raise Refusal(409, f"This session belongs to the agent {own!r}.")
        self.session_id, self.user_id = start.session_id, start.user_id
        self.agent = start.agent
        self._resample = PcmResampler(start.sample_rate)

    async def _listen(self) -> None:
        # The first socket loads the shared model: off the event loop, like each frame's work.
        vad = VadStream(await asyncio.to_thread(self._services.vad_model))
        while True:
            message = await self._io.receive()
            kind = message.get("type")
            if kind == "websocket.disconnect":
                raise Dropped("left")
            data = message.get("bytes")
            if data is not None:
                if len(data) > MAX_MESSAGE_BYTES:
                    raise Refusal(413, f"An audio frame is larger than {MAX_MESSAGE_BYTES} "
                                       "bytes; send smaller frames.")
                heard = await asyncio.to_thread(self._windows, vad, data)
                for window, probability in heard:
                    await self._heard(self._detector.push(window, probability))
                continue
            try:
                control = json.loads(message.get("text") or "")
            except json.JSONDecodeError:
                raise Refusal(400, "A text message must be JSON: {\"type\": \"stop\"}.") from None
            if isinstance(control, dict) and control.get("type") == "stop":
                return
            raise Refusal(400, "After start, send audio frames or {\"type\": \"stop\"}.")

    def _windows(self, vad: VadStream, data: bytes) -> list[tuple[np.ndarray, float]]:
        """Off the event loop: a frame resampled, and its complete windows' speech odds."""
        return vad.probabilities(self._samples(data))

    def _samples(self, data: bytes) -> np.ndarray:
        """16-bit LE PCM as 16 kHz float32; a frame may split a sample (the odd byte waits)."""
        data = self._odd_byte + data
        cut = len(data) - len(data) % 2
        self._odd_byte = data[cut:]
        return self._resample(np.frombuffer(data[:cut], dtype="<i2"))

    def _transcribe(self, audio: np.ndarray) -> asyncio.Task[str]:
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        return asyncio.create_task(self._services.speech.stt.transcribe(Clip(pcm)))

    async def _heard(self, moment: Any) -> None:
        """What the voice detector noticed. Transcription starts at the first pause, before
        the silence has lasted long enough to end the utterance; if the user goes on, that
        early transcript is dropped and the whole utterance is transcribed at its end."""
        if moment is None:
            return
        if moment.kind == "paused":
            self._drop_early()
            self._early = (len(moment.audio), self._transcribe(moment.audio))
            return
        if moment.kind == "started":
            if self._speaker is not None and not self._speaker.done():
                self._speaker.cancel()  # barge-in: the reply's audio stops at once
                await self.send({"type": "interrupted"})
            await self.send({"type": "speech_started"})
        elif moment.kind == "ended":
            await self.send({"type": "speech_ended"})
            if self._early is not None and self._early[0] == len(moment.audio):
                transcript, self._early = self._early[1], None
            else:
                self._drop_early()
                transcript = self._transcribe(moment.audio)
            await self._utterances.put((moment.audio, transcript))
        else:
            raise Refusal(413, "The utterance is longer than MAX_AUDIO_SECONDS "
                               f"({self._services.settings.max_audio_seconds:g} s).")

    def _drop_early(self) -> None:
        if self._early is not None:
            self._early[1].cancel()
            self._early = None

    # -- turns ----------------------------------------------------------------------------------

    async def _run_turns(self) -> None:
        """Utterances one at a time, each reply's audio before the next turn; a turn's error
        (the statuses `/chat` answers) ends the conversation with it."""
        try:
            while (heard := await self._utterances.get()) is not None:
                await self._turn(await heard[1])
                speaker = self._speaker
                if speaker is not None:
                    await asyncio.wait({speaker})
                    if not speaker.cancelled() and speaker.exception() is not None:
                        raise speaker.exception()  # type: ignore[misc]
        except ServiceError as exc:
            raise Refusal(exc.status_code, exc.detail) from None

    async def _turn(self, transcript: str) -> None:
        services = self._services
        text = transcript.strip()
        if not text:
            return  # noise the voice detector took for speech: no turn
        await self.send({"type": "transcript", "text": text})
        if self.user_id is not None and services.limiter is not None:
            await services.limiter.hit_user(self.user_id)
        session_id = self.session_id or uuid.uuid4().hex

        async def step(event: dict[str, Any]) -> None:
            await self.send({"type": "step", **event})

        reply = to_response(await services.manager.turn(session_id, self.user_id,
                                                        text[:4000], step, self.agent))
        self.session_id = reply.session_id
        await self.send({"type": "reply", **reply.model_dump(exclude={"error"})})
        spoken = reply.query if reply.status_code == "201" else \
            services.agents.get(reply.agent).definition.speak_result(reply.final_response)
        if spoken and not self._detector.speaking:  # not over the user's own voice
            self._speaker = asyncio.create_task(self._speak(spoken))

    async def _speak(self, text: str) -> None:
        """The reply's audio, sentence by sentence as the engine makes it, paced in real time
        (at most `LEAD_SECONDS` ahead), so a barge-in stops what the client has not got."""
        tts = self._services.speech.tts
        rate = tts.sample_rate
        frame = max(1, int(rate * FRAME_SECONDS))
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0.0
        announced = False
        async for chunk in tts.stream(text, None):
            if not announced:
                await self.send({"type": "audio_start", "mime": f"audio/pcm;rate={rate}"})
                announced, started = True, loop.time()
            pcm = (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2")
            for at in range(0, len(pcm), frame):
                ahead = sent - (loop.time() - started)
                if ahead > LEAD_SECONDS:
                    await asyncio.sleep(ahead - LEAD_SECONDS)
                piece = pcm[at:at + frame]
                await self._send(self._io.send_bytes, piece.tobytes())
                sent += len(piece) / rate
        if announced:
            await self.send({"type": "audio_end"})
