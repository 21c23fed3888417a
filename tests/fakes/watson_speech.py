"""A fake Watson Speech (STT and TTS) and its IAM token endpoint, for the real `ibm-watson` SDK."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent_session.speech.audio import encode

from .watsonx import jwt


@dataclass
class FakeWatsonSpeech:
    api_key: str = "speech-key"
    transcript: str = "book a cab to the airport"
    fail_with: int | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def token(request: Request) -> Response:
            form = await request.form()
            if form.get("apikey") != self.api_key:
                return JSONResponse({"errorMessage": "Provided API key could not be found."},
                                    status_code=400)
            return JSONResponse({"access_token": jwt(), "refresh_token": "x",
                                 "token_type": "Bearer", "expires_in": 3600,
                                 "expiration": int(time.time()) + 3600})

        def denied(request: Request) -> Response | None:
            if self.fail_with:
                return JSONResponse({"error": "fake failure", "code": self.fail_with},
                                    status_code=self.fail_with)
            if request.headers.get("authorization", "").count(".") != 2:
                return JSONResponse({"error": "Unauthorized", "code": 401}, status_code=401)
            return None

        async def recognize(request: Request) -> Response:
            body = await request.body()
            self.calls.append({"path": "recognize", "query": dict(request.query_params),
                               "content_type": request.headers.get("content-type"),
                               "bytes": len(body)})
            if (problem := denied(request)) is not None:
                return problem
            return JSONResponse({"result_index": 0, "results": [
                {"final": True, "alternatives": [{"transcript": self.transcript + " ",
                                                  "confidence": 0.9}]}]})

        async def synthesize(request: Request) -> Response:
            body = await request.json()
            self.calls.append({"path": "synthesize", "query": dict(request.query_params),
                               "accept": request.headers.get("accept"), "body": body})
            if (problem := denied(request)) is not None:
                return problem
            seconds = 0.5 + 0.05 * len(body["text"])
            t = np.arange(int(16000 * seconds)) / 16000
            tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
            return Response(encode(tone, 16000, "audio/wav"), media_type="audio/wav")

        return Starlette(routes=[
            Route("/identity/token", token, methods=["POST"]),
            Route("/v1/recognize", recognize, methods=["POST"]),
            Route("/v1/synthesize", synthesize, methods=["POST"]),
        ])
