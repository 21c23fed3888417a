"""Audio in and out with PyAV (FFmpeg inside the wheel): no temporary files, no subprocess.

`decode` turns any upload PyAV reads (WAV, webm/opus, ogg, mp3, m4a) into 16 kHz mono 16-bit
PCM; `Encoder` turns float samples into webm/opus, ogg/opus or WAV bytes, chunk by chunk, so a
reply can stream while it is synthesized.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from ..errors import ServiceError

STT_RATE = 16_000
FORMATS = {  # media type -> (container, codec, sample rate)
    "audio/webm": ("webm", "libopus", 48_000),
    "audio/ogg": ("ogg", "libopus", 48_000),
    "audio/wav": ("wav", "pcm_s16le", None),
}
ALIASES = {"audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav",
           "audio/*": "audio/webm", "*/*": "audio/webm"}


class AudioError(ServiceError):
    """Empty or undecodable audio."""

    status_code = 400


class AudioTooLong(ServiceError):
    status_code = 413


class UnsupportedFormat(ServiceError):
    status_code = 406


@dataclass(frozen=True)
class Clip:
    """16 kHz mono PCM."""

    pcm: np.ndarray  # int16

    @property
    def seconds(self) -> float:
        return len(self.pcm) / STT_RATE

    @property
    def floats(self) -> np.ndarray:
        return self.pcm.astype(np.float32) / 32768.0


def decode(data: bytes, max_seconds: float) -> Clip:
    """Decode an upload to 16 kHz mono int16; AudioError when empty or unreadable,
    AudioTooLong past `max_seconds` (checked while decoding, so a long file is not read whole)."""
    if not data:
        raise AudioError("The audio file is empty.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError):
        raise AudioError("The audio could not be decoded; send WAV, webm/opus, ogg, mp3 "
                         "or m4a.") from None
    chunks: list[np.ndarray] = []
    total = 0
    limit = int(max_seconds * STT_RATE)
    try:
        with container:
            if not container.streams.audio:
                raise AudioError("The file has no audio stream.")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=STT_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray()[0]  # packed mono: one plane
                    chunks.append(samples.copy())
                    total += len(samples)
                if total > limit:
                    raise AudioTooLong(f"The audio is longer than {max_seconds:g} seconds.")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray()[0].copy())
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"The audio could not be decoded ({type(exc).__name__}).") from None
    pcm = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    if len(pcm) == 0:
        raise AudioError("The audio holds no samples.")
    if len(pcm) > limit:
        raise AudioTooLong(f"The audio is longer than {max_seconds:g} seconds.")
    return Clip(pcm)


def negotiate(accept: str | None) -> str:
    """The reply's media type from an Accept header: webm unless the caller asks otherwise;
    UnsupportedFormat (406) when nothing it accepts is offered."""
    if not accept or not accept.strip():
        return "audio/webm"
    ranked = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        media = ALIASES.get(media.lower(), media.lower())
        if media in FORMATS and quality > 0:
            ranked.append((-quality, position, media))
    if not ranked:
        raise UnsupportedFormat("Unsupported Accept: use audio/webm, audio/ogg or audio/wav.")
    return min(ranked)[2]


class _Sink(io.RawIOBase):
    """A write-only, non-seekable buffer from which encoded bytes are taken as they appear."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


class Encoder:
    """Float32 mono samples at `sample_rate` in, encoded bytes out as they are produced."""

    def __init__(self, media_type: str, sample_rate: int) -> None:
        container_name, codec, rate = FORMATS[media_type]
        self.media_type = media_type
        self._sink = _Sink()
        self._container = av.open(self._sink, mode="w", format=container_name)
        self._rate = rate or sample_rate
        self._stream = self._container.add_stream(codec, rate=self._rate, layout="mono")
        self._resampler = av.AudioResampler(format=self._stream.format.name, layout="mono",
                                            rate=self._rate)
        self._input_rate = sample_rate
        self._pts = 0

    def _mux(self, frames) -> None:
        for frame in frames:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)

    def add(self, samples: np.ndarray) -> bytes:
        if len(samples):
            pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = self._input_rate
            frame.pts = self._pts
            self._pts += pcm.shape[1]
            self._mux(self._resampler.resample(frame))
        return self._sink.take()

    def finish(self) -> bytes:
        self._mux(self._resampler.resample(None))
        self._mux([None])
        self._container.close()
        return self._sink.take()


def encode(samples: np.ndarray, sample_rate: int, media_type: str) -> bytes:
    encoder = Encoder(media_type, sample_rate)
    return encoder.add(samples) + encoder.finish()


class PcmResampler:
    """16-bit mono PCM at `rate` to 16 kHz float32, frame by frame (PyAV keeps the filter's
    state between frames, so a stream cut anywhere resamples as one)."""

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=STT_RATE)

    def __call__(self, pcm: np.ndarray) -> np.ndarray:
        if self._rate == STT_RATE:
            return pcm.astype(np.float32) / 32768.0
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        out = [resampled.to_ndarray()[0] for resampled in self._resampler.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
