"""End of utterance from voice activity: windows with their speech probability in, the moments
that matter out: speech started (it lasted `min_speech_ms`), a pause (silence for `pause_ms`,
with the audio so far: a listener may start transcribing it early), the utterance ended (silence
for `silence_ms`, with its audio, the same as the pause's when no speech came between), or it ran
past `max_seconds`. Noise shorter than `min_speech_ms` never starts an utterance; short pauses
inside one do not end it."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .vad import RATE, WINDOW

WINDOW_MS = WINDOW * 1000 / RATE


@dataclass(frozen=True)
class UtteranceSettings:
    silence_ms: float = 600  # VAD_SILENCE_MS
    min_speech_ms: float = 250  # VAD_MIN_SPEECH_MS
    max_seconds: float = 120  # MAX_AUDIO_SECONDS
    threshold: float = 0.5  # speech when the probability reaches it
    release: float = 0.35  # silence when it falls below this (hysteresis)
    pre_roll_ms: float = 300  # audio kept from before the start, so the first word is whole
    pause_ms: float = 200  # silence after which the audio so far is offered early


@dataclass(frozen=True)
class Moment:
    kind: Literal["started", "paused", "ended", "too_long"]
    audio: np.ndarray | None = None  # the utterance so far (float32, 16 kHz): paused, ended


class UtteranceDetector:
    def __init__(self, settings: UtteranceSettings) -> None:
        self._settings = settings
        self._before: deque[np.ndarray] = deque(maxlen=max(1, round(settings.pre_roll_ms
                                                                       / WINDOW_MS)))
        self._candidate: list[np.ndarray] = []  # speech not yet long enough to count
        self._speech_windows = 0
        self._utterance: list[np.ndarray] | None = None  # None: not in an utterance
        self._silent_windows = 0
        self._pause_windows = max(1, math.ceil(settings.pause_ms / WINDOW_MS))

    @property
    def speaking(self) -> bool:
        return self._utterance is not None

    def push(self, window: np.ndarray, probability: float) -> Moment | None:
        settings = self._settings
        speech = probability >= settings.threshold
        silence = probability < settings.release
        if self._utterance is None:
            if speech:
                self._candidate.append(window)
                self._speech_windows += 1
                if self._speech_windows * WINDOW_MS >= settings.min_speech_ms:
                    self._utterance = [*self._before, *self._candidate]
                    self._before.clear()
                    self._candidate, self._speech_windows, self._silent_windows = [], 0, 0
                    return Moment("started")
            elif silence:  # noise that stopped short of an utterance: forgotten
                for held in self._candidate:
                    self._before.append(held)
                self._candidate, self._speech_windows = [], 0
                self._before.append(window)
            else:
                self._candidate.append(window)
            return None
        self._utterance.append(window)
        self._silent_windows = self._silent_windows + 1 if silence else 0
        if len(self._utterance) * WINDOW_MS > settings.max_seconds * 1000:
            self._utterance, self._silent_windows = None, 0
            return Moment("too_long")
        spoken = len(self._utterance) - self._silent_windows  # up to the last sound
        if self._silent_windows * WINDOW_MS >= settings.silence_ms:
            audio = np.concatenate(self._utterance[:spoken])  # without the trailing silence
            self._utterance, self._silent_windows = None, 0
            return Moment("ended", audio)
        if self._silent_windows == self._pause_windows:
            return Moment("paused", np.concatenate(self._utterance[:spoken]))
        return None
