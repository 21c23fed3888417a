"""The speech use cases behind the routes: an upload to text, and text to a stream of encoded
audio in the negotiated format."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from ..errors import ServiceError
from ..metrics import Metrics
from .audio import Clip, Encoder, decode
from .stt.base import SpeechToText
from .tts.base import TextToSpeech

log = logging.getLogger(__name__)


class UnknownVoice(ServiceError):
    status_code = 422


class SpeechService:
    def __init__(self, stt: SpeechToText, tts: TextToSpeech, max_audio_seconds: float,
                 metrics: Metrics | None = None) -> None:
        self._metrics = metrics or Metrics()
        self.stt = stt
        self.tts = tts
        self._max_seconds = max_audio_seconds

    async def transcribe(self, data: bytes) -> str:
        clip = await asyncio.to_thread(decode, data, self._max_seconds)
        return await self.transcribe_clip(clip)

    async def transcribe_clip(self, clip: Clip) -> str:
        """Decoded audio (a voice call's utterance) to text, timed into `stt_seconds`."""
        started = time.perf_counter()
        text = await self.stt.transcribe(clip)
        self._metrics.stt_seconds.labels(self.stt.name).observe(time.perf_counter() - started)
        return text

    async def synthesize(self, text: str, voice: str | None,
                         media_type: str) -> AsyncIterator[bytes]:
        """Encoded audio, chunk by chunk. The first chunk is produced before this returns, so a
        failing engine is an error response (503), not a broken stream."""
        known = self.tts.voices()
        if voice and known is not None and voice not in known:
            raise UnknownVoice(f"Voice {voice!r} is not available; use one of: "
                               f"{', '.join(known)}.")
        started = time.perf_counter()
        samples = self.tts.stream(text, voice)
        encoder = Encoder(media_type, self.tts.sample_rate)
        first = await anext(samples, None)
        head = await asyncio.to_thread(encoder.add, first) if first is not None else b""

        async def rest() -> AsyncIterator[bytes]:
            try:
                if head:
                    yield head
                async for chunk in samples:
                    if data := await asyncio.to_thread(encoder.add, chunk):
                        yield data
                yield await asyncio.to_thread(encoder.finish)
                self._metrics.tts_seconds.labels(self.tts.name).observe(
                    time.perf_counter() - started)
            except Exception:  # the response has started: end the stream and log it
                log.exception("synthesis failed mid-stream")

        return rest()
