"""Watson Speech to Text through the real SDK; audio goes as 16 kHz 16-bit PCM
(`audio/l16;rate=16000`), so any upload format works. The SDK is synchronous: run in a thread."""

from __future__ import annotations

import asyncio
from typing import Any

from ..audio import Clip
from ..watson import configure, describe


class WatsonSpeechToText:
    name = "watson"

    def __init__(self, api_key: str, url: str, auth_url: str | None, verify: str, model: str,
                 timeout: float = 30.0) -> None:
        from ibm_watson import SpeechToTextV1

        self._service: Any = configure(SpeechToTextV1, api_key, url, auth_url, verify, timeout)
        self._model = model

    def _run(self, clip: Clip) -> str:
        result = self._service.recognize(
            audio=clip.pcm.astype("<i2").tobytes(), content_type="audio/l16;rate=16000",
            model=self._model, smart_formatting=True).get_result()
        return " ".join(r["alternatives"][0]["transcript"].strip()
                        for r in result.get("results", []) if r.get("alternatives")).strip()

    async def transcribe(self, clip: Clip) -> str:
        try:
            return await asyncio.to_thread(self._run, clip)
        except Exception as exc:  # every SDK failure is a 503 with a reason
            raise describe(exc, "Speech to Text") from None

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
