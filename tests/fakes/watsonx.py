"""A fake watsonx.ai speaking the wire protocol the real SDK uses: the IAM token endpoint, the
project lookup, the model specs, and `/ml/v1/text/chat`, whose answers the test scripts."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ChatAnswer = dict[str, Any] | Response | Callable[[dict[str, Any]], Any]


def jwt(expires_in: int = 3600) -> str:
    """A JWT-shaped token with `exp` (unsigned: the SDK only decodes it)."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    now = int(time.time())
    return ".".join([part({"alg": "none", "typ": "JWT"}),
                     part({"iat": now, "exp": now + expires_in, "sub": "fake"}), "sig"])


def tool_calls(*calls: tuple[str, Any], content: str = "") -> dict[str, Any]:
    """A chat answer carrying tool calls; arguments may be a dict or a raw string."""
    return {"role": "assistant", "content": content, "tool_calls": [
        {"id": f"call_{i}", "type": "function",
         "function": {"name": name,
                      "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for i, (name, args) in enumerate(calls)]}


def text(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


@dataclass
class FakeWatsonx:
    api_key: str = "wx-test-key"
    project_id: str = "proj-1"
    model_id: str = "mistralai/mistral-large"
    chat_delay: float = 0.0
    answers: list[ChatAnswer] = field(default_factory=list)
    default: ChatAnswer | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: ChatAnswer) -> None:
        with self._lock:
            self.answers.extend(answers)

    @property
    def chats(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/text/chat")]

    def app(self) -> Starlette:
        async def token(request: Request) -> Response:
            form = await request.form()
            self.token_requests += 1
            if form.get("apikey") != self.api_key:
                return JSONResponse({"errorCode": "BXNIM0415E",
                                     "errorMessage": "Provided API key could not be found."},
                                    status_code=400)
            return JSONResponse({"access_token": jwt(), "refresh_token": "not-used",
                                 "token_type": "Bearer", "expires_in": 3600,
                                 "expiration": int(time.time()) + 3600})

        def authorized(request: Request) -> bool:
            header = request.headers.get("authorization", "")
            return header.startswith("Bearer ") and header.count(".") == 2

        async def project(request: Request) -> Response:
            self.requests.append({"path": request.url.path})
            if not authorized(request):
                return JSONResponse({"errors": [{"code": "unauthorized"}]}, status_code=401)
            if request.path_params["project_id"] != self.project_id:
                return JSONResponse({"errors": [{"code": "not_found"}]}, status_code=404)
            return JSONResponse({"metadata": {"guid": self.project_id},
                                 "entity": {"name": "fake", "storage": {"type": "bmcos"},
                                            "compute": []}})

        async def specs(request: Request) -> Response:
            self.requests.append({"path": request.url.path})
            return JSONResponse({"total_count": 1, "resources": [{
                "model_id": self.model_id, "label": "fake", "provider": "fake",
                "functions": [{"id": "text_chat"}, {"id": "text_generation"}],
                "lifecycle": [{"id": "available", "start_date": "2024-01-01"}]}]})

        async def chat(request: Request) -> Response:
            # The delay counts from the request's arrival: the fake's own work is not the model's.
            answer_at = asyncio.get_running_loop().time() + self.chat_delay
            body = await request.json()
            self.requests.append({"path": request.url.path, "body": body,
                                  "query": dict(request.query_params)})
            if not authorized(request):
                return JSONResponse({"errors": [{"code": "authentication_token_not_valid"}]},
                                    status_code=401)
            if self.chat_delay:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(answer_at - asyncio.get_running_loop().time())
                finally:
                    self.in_flight -= 1
            with self._lock:
                answer: Any = (self.answers.pop(0) if self.answers
                               else self.default or text("(no script left)"))
            if callable(answer) and not isinstance(answer, Response):
                answer = answer(body)
            if isinstance(answer, Response):
                return answer
            return JSONResponse({
                "id": "chat-1", "model_id": body.get("model_id"), "created": int(time.time()),
                "choices": [{"index": 0, "message": answer,
                             "finish_reason": "tool_calls" if answer.get("tool_calls")
                             else "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

        return Starlette(routes=[
            Route("/identity/token", token, methods=["POST"]),
            Route("/v2/projects/{project_id}", project, methods=["GET"]),
            Route("/ml/v1/foundation_model_specs", specs, methods=["GET"]),
            Route("/ml/v1/text/chat", chat, methods=["POST"]),
        ])


def quick_chat(fake: FakeWatsonx, app: Starlette) -> Callable[..., Any]:
    """Benchmarks: `app` with the chat route answered in plain ASGI, the default answer
    `chat_delay` after the request arrived, nothing recorded. The fake shares the 2 cores with
    the service it measures; Starlette's routing, request and response objects doubled its CPU
    per call, and its queue under a burst showed up as the model's latency."""
    answer = fake.default or text("")
    body = json.dumps({"id": "chat-1", "model_id": fake.model_id, "created": int(time.time()),
                       "choices": [{"index": 0, "message": answer, "finish_reason":
                                    "tool_calls" if answer.get("tool_calls") else "stop"}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 20,
                                 "total_tokens": 120}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def asgi(scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope["path"] != "/ml/v1/text/chat":
            await app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        answer_at = loop.time() + fake.chat_delay
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        token = dict(scope["headers"]).get(b"authorization", b"")
        status, content = (200, body) if token.startswith(b"Bearer ") else (401, b"{}")
        await asyncio.sleep(answer_at - loop.time())
        await send({"type": "http.response.start", "status": status, "headers": headers
                    if status == 200 else [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": content})

    return asgi


def main() -> None:
    """Serve a fake watsonx in its own process (for benchmarks): every chat answer asks the
    user a question after `--delay` seconds."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    fake = FakeWatsonx(api_key="bench-key", chat_delay=args.delay,
                       default=tool_calls(("prompt_user", {"question": "Where from?"})))
    uvicorn.run(quick_chat(fake, fake.app()), host="127.0.0.1", port=args.port, log_level="warning",
                ssl_certfile=args.cert, ssl_keyfile=args.key, backlog=2048)


if __name__ == "__main__":
    main()
