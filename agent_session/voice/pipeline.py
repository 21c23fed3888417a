"""One voice pipeline for every transport (the browser's socket, Twilio, Exotel): audio in, voice
activity and end of utterance, speech to text, the agent's turn, text to speech, paced audio
out, with barge-in. A transport is a small adapter (`Transport`): its messages and its codec.

Three things run at once per call: the listener (the transport's events: audio, keypad digits,
playback marks; voice activity and end of utterance), the turn runner (one utterance at a time:
its transcript, the turn, the reply) and, while a reply is spoken, its speaker (sentence by
sentence, paced in real time so that stopping it on barge-in stops what the caller has not yet
received). Everything sent goes through one sender with a deadline: a peer that stops reading is
dropped, the process is not held up. The edge (keys, rate limits, ownership: `access.py`) is the
adapter's first step and the runner's per turn, as for HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..access import limit_user
from ..errors import ServiceError
from ..schemas import to_response
from ..services import Services
from ..speech.audio import Clip, PcmResampler
from ..speech.utterances import Moment, UtteranceDetector, UtteranceSettings
from ..speech.vad import VadStream
from .codecs import Resampler
from .spoken import spoken

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 5.0  # a peer that reads nothing for this long is dropped
LEAD_SECONDS = 0.25  # reply audio goes out at most this far ahead of real time
DIGIT_PAUSE_SECONDS = 1.5  # keypad digits end with '#' or this long without another
ACK_AFTER_SECONDS = 0.35  # a turn still thinking this long after the utterance: "okay"
ACKNOWLEDGEMENTS = ("Okay.", "Alright.", "Sure.", "Got it.")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Audio:
    """Caller audio: 16-bit PCM at the transport's `in_rate`."""

    pcm: np.ndarray


@dataclass(frozen=True)
class Digits:
    """Keys pressed on the phone's keypad (DTMF)."""

    keys: str


@dataclass(frozen=True)
class Played:
    """The carrier played the reply audio up to the mark of this name."""

    name: str


Inbound = Audio | Digits | Played


class Refusal(Exception):
    """Ends the call with its reason: `status` as the HTTP routes would answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Dropped(Exception):
    """The peer stopped reading (or left): nothing more can be sent."""


class Transport(Protocol):
    """What the pipeline needs of a transport."""

    name: str
    in_rate: int  # caller audio's sample rate
    out_rate: int  # reply audio's sample rate
    frame_seconds: float  # reply audio goes out in frames this long
    confirms_playback: bool  # marks come back once the caller heard the audio before them

    async def receive(self) -> Inbound | None:
        """The next event; None when the call ended cleanly (`stop`)."""
        ...

    async def send_audio(self, pcm: np.ndarray) -> None:
        """One frame of reply audio: 16-bit PCM at `out_rate`."""
        ...

    async def mark(self, name: str) -> None:
        """After the audio sent so far: ask to be told (`Played`) when it has been heard."""
        ...

    async def reply_started(self) -> None: ...

    async def reply_ended(self) -> None: ...

    async def interrupted(self) -> None:
        """Barge-in: the caller spoke over the reply; drop what is queued to play."""
        ...

    async def notify(self, event: dict[str, Any]) -> None:
        """What happened (speech started, transcript, step, reply), for transports that show it."""
        ...


@dataclass
class Call:
    """Who is calling and where the turns go (the session is created by the first turn)."""

    session_id: str | None = None
    user_id: str | None = None
    agent: str | None = None
    greeting: str | None = None


@dataclass
class _Reply:
    """A reply being spoken: its sentences, and how many the caller has heard."""

    sentences: list[str]
    heard: int = 0
    marks: dict[str, int] = field(default_factory=dict)  # mark name -> sentences up to it

    def heard_text(self) -> str:
        return " ".join(self.sentences[:self.heard])

    def cut(self) -> bool:
        return self.heard < len(self.sentences)


class VoicePipeline:
    def __init__(self, services: Services, transport: Transport, call: Call) -> None:
        self._services = services
        self._io = transport
        self.call = call
        settings = services.settings
        self._detector = UtteranceDetector(UtteranceSettings(
            silence_ms=settings.vad_silence_ms, min_speech_ms=settings.vad_min_speech_ms,
            max_seconds=settings.max_audio_seconds))
        self._send_lock = asyncio.Lock()
        self._utterances: asyncio.Queue[asyncio.Future[str] | None] = asyncio.Queue()
        self._early: tuple[int, asyncio.Task[str]] | None = None  # transcribing from a pause
        self._speaker: asyncio.Task[None] | None = None
        self._reply: _Reply | None = None
        self._cut: str | None = None  # what the caller heard of a reply they talked over
        self._odd_byte = b""
        self._to_16k = PcmResampler(transport.in_rate)
        self._digits = ""
        self._digit_timer: asyncio.TimerHandle | None = None
        self._last_outcome: str | None = None
        self._ended = False  # the caller hung up (`stop`): nothing more is spoken
        self._replies = 0

    # -- sending --------------------------------------------------------------------------------

    async def send(self, sending: Awaitable[None]) -> None:
        async with self._send_lock:
            try:
                await asyncio.wait_for(sending, SEND_TIMEOUT_SECONDS)
            except (TimeoutError, RuntimeError, OSError) as exc:
                raise Dropped(str(exc) or "the peer is not reading") from None

    async def notify(self, event: dict[str, Any]) -> None:
        await self.send(self._io.notify(event))

    # -- the call -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until the call ends (`stop`, the peer leaves) or a refusal ends it (raised: the
        adapter says why in its own way). The last turn finishes first on `stop`."""
        listener = asyncio.create_task(self._listen())
        runner = asyncio.create_task(self._run_turns())
        if self.call.greeting:
            self._speak_now(self.call.greeting)
        try:
            done, _ = await asyncio.wait({listener, runner}, return_when=asyncio.FIRST_COMPLETED)
            if listener in done:
                listener.result()  # a refusal or a drop ends it here
                # `stop`: nobody listens any more, but a turn under way is finished and saved.
                log.info("%s call %s: the caller hung up", self._io.name, self.call.session_id)
                self._ended = True
                if self._speaker is not None:
                    self._speaker.cancel()
                self._flush_digits()
                await self._utterances.put(None)
                await runner
            else:
                runner.result()
        except Dropped:
            log.info("%s call dropped: the peer left or stopped reading", self._io.name)
        finally:
            self._drop_early()
            if self._digit_timer is not None:
                self._digit_timer.cancel()
            for task in (listener, runner, self._speaker):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _listen(self) -> None:
        # The first call loads the shared model: off the event loop, like each frame's work.
        vad = VadStream(await asyncio.to_thread(self._services.vad_model))
        while (event := await self._io.receive()) is not None:
            if isinstance(event, Audio):
                heard = await asyncio.to_thread(vad.probabilities, self._to_16k(event.pcm))
                for window, probability in heard:
                    await self._heard(self._detector.push(window, probability))
            elif isinstance(event, Digits):
                await self._keys(event.keys)
            elif isinstance(event, Played) and self._reply is not None:
                self._reply.heard = max(self._reply.heard,
                                        self._reply.marks.get(event.name, 0))

    def _transcribe(self, audio: np.ndarray) -> asyncio.Task[str]:
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        return asyncio.create_task(self._services.speech.transcribe_clip(Clip(pcm)))

    async def _heard(self, moment: Moment | None) -> None:
        """What the voice detector noticed. Transcription starts at the first pause, before
        the silence has lasted long enough to end the utterance; if the caller goes on, that
        early transcript is dropped and the whole utterance is transcribed at its end."""
        if moment is None:
            return
        if moment.kind == "paused":
            self._drop_early()
            self._early = (len(moment.audio), self._transcribe(moment.audio))
            return
        if moment.kind == "started":
            await self._barge_in()
            await self.notify({"type": "speech_started"})
        elif moment.kind == "ended":
            await self.notify({"type": "speech_ended"})
            if self._early is not None and self._early[0] == len(moment.audio):
                transcript, self._early = self._early[1], None
            else:
                self._drop_early()
                transcript = self._transcribe(moment.audio)
            await self._utterances.put(transcript)
        else:
            raise Refusal(413, "The utterance is longer than MAX_AUDIO_SECONDS "
                               f"({self._services.settings.max_audio_seconds:g} s).")

    async def _barge_in(self) -> None:
        """The caller spoke (or pressed a key) over the reply: its audio stops at once, and
        the next turn is told how much of it was heard."""
        if self._speaker is not None and not self._speaker.done():
            self._speaker.cancel()
            if self._reply is not None and self._reply.cut():
                self._cut = self._reply.heard_text()
            self._reply = None  # marks the carrier returns for the cleared audio: not heard
            await self.send(self._io.interrupted())

    async def _keys(self, keys: str) -> None:
        """Keypad digits are the caller's words: '1 2 #' is "12"; a pause also ends them."""
        await self._barge_in()
        for key in keys:
            if key == "#":
                self._flush_digits()
            elif key.isdigit() or key == "*":
                self._digits += key
        if self._digits:
            if self._digit_timer is not None:
                self._digit_timer.cancel()
            self._digit_timer = asyncio.get_running_loop().call_later(
                DIGIT_PAUSE_SECONDS, self._flush_digits)

    def _flush_digits(self) -> None:
        if self._digit_timer is not None:
            self._digit_timer.cancel()
            self._digit_timer = None
        digits, self._digits = self._digits.strip("*"), ""
        if not digits:
            return
        if self._last_outcome == "confirm" and digits in ("1", "2"):
            digits = "yes" if digits == "1" else "no"  # "press 1 for yes"
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        done.set_result(digits)
        self._utterances.put_nowait(done)

    def _drop_early(self) -> None:
        if self._early is not None:
            self._early[1].cancel()
            self._early = None

    # -- turns ----------------------------------------------------------------------------------

    async def _run_turns(self) -> None:
        """Utterances one at a time, each reply's audio before the next turn; a turn's error
        (the statuses `/chat` answers) ends the call with it."""
        try:
            await self._spoken()  # the greeting, if any
            while (heard := await self._utterances.get()) is not None:
                await self._turn(await heard)
                await self._spoken()
        except ServiceError as exc:
            raise Refusal(exc.status_code, exc.detail) from None

    async def _spoken(self) -> None:
        """Wait until the reply being spoken ends (or is talked over); a peer that stopped
        reading ends the call here."""
        speaker = self._speaker
        if speaker is not None:
            await asyncio.wait({speaker})
            if not speaker.cancelled() and speaker.exception() is not None:
                raise speaker.exception()  # type: ignore[misc]

    def _span(self) -> AbstractContextManager[Any]:
        tracer = self._services.tracing.tracer if self._services.tracing else None
        if tracer is None:
            return contextlib.nullcontext()
        return tracer.start_as_current_span("voice turn", attributes={
            "voice.transport": self._io.name, "session.id": self.call.session_id or ""})

    async def _turn(self, transcript: str) -> None:
        services = self._services
        text = transcript.strip()
        if not text:
            return  # noise the voice detector took for speech: no turn
        await self.notify({"type": "transcript", "text": text})
        await limit_user(services, self.call.user_id)
        session_id = self.call.session_id or uuid.uuid4().hex

        async def step(event: dict[str, Any]) -> None:
            await self.notify({"type": "step", **event})

        heard, self._cut = self._cut, None
        with self._span():
            playing = asyncio.create_task(services.manager.turn(
                session_id, self.call.user_id, text[:4000], step, self.call.agent, heard=heard))
            try:
                done, _ = await asyncio.wait({playing}, timeout=ACK_AFTER_SECONDS)
                if not done and not self._detector.speaking:
                    # A model call is under way (a second or two): say so, as a person would.
                    self._replies += 1
                    self._speak_now(ACKNOWLEDGEMENTS[self._replies % len(ACKNOWLEDGEMENTS)],
                                    remember=False)
                result = await playing
            finally:
                if not playing.done():
                    playing.cancel()
        await self._spoken()  # the acknowledgement ends first
        reply = to_response(result)
        self.call.session_id = reply.session_id
        self._last_outcome = reply.outcome
        await self.notify({"type": "reply", **reply.model_dump(exclude={"error"})})
        said = reply.query if reply.status_code == "201" else \
            services.agents.get(reply.agent).definition.speak_result(reply.final_response)
        if said and not self._detector.speaking:  # not over the caller's own voice
            self._speak_now(spoken(said, services.timezone))

    def _speak_now(self, text: str, remember: bool = True) -> None:
        if not self._ended:
            self._speaker = asyncio.create_task(self._speak(text, remember))

    async def _speak(self, text: str, remember: bool = True) -> None:
        """The reply's audio, sentence by sentence as the engine makes it, paced in real time
        (at most `LEAD_SECONDS` ahead), each sentence followed by a mark, so a barge-in stops
        what the caller has not got and the pipeline knows what they heard."""
        tts = self._services.speech.tts
        sentences = [s for s in _SENTENCE.split(text.strip()) if s]
        reply = _Reply(sentences)
        if remember:
            self._reply = reply
        resample = Resampler(tts.sample_rate, self._io.out_rate)
        frame = max(1, int(self._io.out_rate * self._io.frame_seconds))
        loop = asyncio.get_running_loop()
        started, sent = 0.0, 0.0
        announced = False
        self._replies += 1
        for number, sentence in enumerate(sentences, 1):
            pending = np.zeros(0, dtype=np.int16)
            async for chunk in tts.stream(sentence, None):
                if not announced:
                    await self.send(self._io.reply_started())
                    announced, started = True, loop.time()
                pcm = resample((np.clip(chunk, -1.0, 1.0) * 32767).astype(np.int16))
                pending = np.concatenate([pending, pcm])
                while len(pending) >= frame:
                    piece, pending = pending[:frame], pending[frame:]
                    sent = await self._paced(piece, started, sent)
            if len(pending):  # the sentence's tail, filled to a frame with silence
                piece = np.concatenate([pending, np.zeros(frame - len(pending), np.int16)])
                sent = await self._paced(piece, started, sent)
            name = f"r{self._replies}s{number}"
            reply.marks[name] = number
            if announced:
                await self.send(self._io.mark(name))
            if not self._io.confirms_playback:
                reply.heard = number
        if announced:
            await self.send(self._io.reply_ended())

    async def _paced(self, piece: np.ndarray, started: float, sent: float) -> float:
        loop = asyncio.get_running_loop()
        ahead = sent - (loop.time() - started)
        if ahead > LEAD_SECONDS:
            await asyncio.sleep(ahead - LEAD_SECONDS)
        await self.send(self._io.send_audio(piece))
        return sent + len(piece) / self._io.out_rate
