"""Telephone audio with PyAV (FFmpeg inside the wheel): G.711 μ-law at 8 kHz for Twilio, and
resampling between the rates transports and engines use. (Not the `audioop` module, which
Python 3.13 removed.) Each object keeps its codec's or filter's state between frames, so a
stream cut anywhere converts as one."""

from __future__ import annotations

import av
import numpy as np


def _frame(pcm: np.ndarray, rate: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm, dtype=np.int16).reshape(1, -1),
                                       format="s16", layout="mono")
    frame.sample_rate = rate
    return frame


class Resampler:
    """16-bit mono PCM from one rate to another."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self._in, self._out = rate_in, rate_out
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_out)

    def __call__(self, pcm: np.ndarray) -> np.ndarray:
        if self._in == self._out or not len(pcm):
            return pcm.astype(np.int16, copy=False)
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(_frame(pcm, self._in))]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)


class MulawDecoder:
    """μ-law bytes (8 kHz) to 16-bit PCM."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("pcm_mulaw", "r")
        self._codec.sample_rate = 8000
        self._codec.layout = "mono"

    def __call__(self, data: bytes) -> np.ndarray:
        frames = self._codec.decode(av.Packet(data))
        out = [f.to_ndarray().reshape(-1) for f in frames]
        return np.concatenate(out).astype(np.int16) if out else np.zeros(0, dtype=np.int16)


class MulawEncoder:
    """16-bit PCM at 8 kHz to μ-law bytes, one byte a sample."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("pcm_mulaw", "w")
        self._codec.sample_rate = 8000
        self._codec.layout = "mono"
        self._codec.format = "s16"

    def __call__(self, pcm: np.ndarray) -> bytes:
        return b"".join(bytes(packet) for packet in self._codec.encode(_frame(pcm, 8000)))
