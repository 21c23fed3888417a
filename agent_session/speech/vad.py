"""Voice activity on a live stream: Silero VAD, the ONNX model faster-whisper ships
(`faster_whisper/assets/silero_vad_v6.onnx`), run window by window with its recurrent state
kept, so every 32 ms of 16 kHz audio gets a speech probability as it arrives.

faster-whisper's own wrapper restarts the model's state on every call (it is made for whole
files), so the stream keeps the state itself: one `VadStream` per audio stream, all sharing one
`SileroModel` (onnxruntime sessions are safe to run from several threads)."""

from __future__ import annotations

import os

import numpy as np

RATE = 16_000
WINDOW = 512  # samples the model reads per step at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window it reads with each one


class SileroModel:
    def __init__(self) -> None:
        import onnxruntime
        from faster_whisper.utils import get_assets_path

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            os.path.join(get_assets_path(), "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"], sess_options=options)


class VadStream:
    """`probabilities(samples)`: one speech probability per complete window of the stream so
    far; samples left over wait for the next call. Synchronous: run it off the event loop."""

    def __init__(self, model: SileroModel) -> None:
        self._session = model.session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def probabilities(self, samples: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """(window, probability) for each window completed by `samples` (float32, 16 kHz)."""
        audio = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        count = len(audio) // WINDOW
        out = []
        for i in range(count):
            window = audio[i * WINDOW:(i + 1) * WINDOW]
            batch = np.concatenate([self._context, window])[None, :]
            prob, self._h, self._c = self._session.run(
                None, {"input": batch, "h": self._h, "c": self._c})
            self._context = window[-CONTEXT:]
            out.append((window, float(prob[0])))
        self._pending = audio[count * WINDOW:]
        return out
