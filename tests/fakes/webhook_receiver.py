"""A webhook receiver as a user's system would run one: it records every attempt, answers 500
to the first `fail_first`, and checks signatures with the `standardwebhooks` verifier."""

from __future__ import annotations

import json
import threading
from typing import Any

from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class WebhookReceiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts: list[tuple[dict[str, str], str, int]] = []  # headers, body, status
        self._lock = threading.Lock()

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = (await request.body()).decode()
            with self._lock:
                status = 500 if len(self.attempts) < self.fail_first else 200
                self.attempts.append((dict(request.headers), body, status))
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def delivered(self, secret: str) -> list[dict[str, Any]]:
        """The events answered 2xx, each verified with `secret` (raises when one is not
        signed with it), with its `webhook-id` as `id`; duplicates kept."""
        with self._lock:
            done = [(h, b) for h, b, status in self.attempts if status < 300]
        verifier = Webhook(secret)
        return [{**verifier.verify(body, headers), "id": headers["webhook-id"]}
                for headers, body in done]

    def ids(self) -> list[str]:
        with self._lock:
            return [headers["webhook-id"] for headers, _, _ in self.attempts]

    @staticmethod
    def body(attempt: tuple[dict[str, str], str, int]) -> dict[str, Any]:
        return json.loads(attempt[1])
