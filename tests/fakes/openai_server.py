"""A fake OpenAI-compatible server (`/v1/models`, `/v1/chat/completions`) whose answers the test
scripts: chat messages, error responses, or callables (which may sleep)."""

from __future__ import annotations

import asyncio
import inspect
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

Answer = dict[str, Any] | Response | Callable[[dict[str, Any]], Any]


def error(status: int, message: str = "error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "test", "code": status}},
                        status_code=status)


def completion(message: dict[str, Any], model: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message,
                                         "finish_reason": "tool_calls" if message.get(
                                             "tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def json_answer(value: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": json.dumps(value)}


@dataclass
class FakeOpenAI:
    api_key: str | None = "sk-test"
    model: str = "test-model"
    delay: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    default: Answer | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self.answers.extend(answers)

    def app(self) -> Starlette:
        def authorized(request: Request) -> bool:
            return self.api_key is None or \
                request.headers.get("authorization") == f"Bearer {self.api_key}"

        async def models(request: Request) -> Response:
            if not authorized(request):
                return error(401, "invalid api key")
            return JSONResponse({"object": "list", "data": [
                {"id": self.model, "object": "model", "created": 0, "owned_by": "test"}]})

        async def chat(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            if not authorized(request):
                return error(401, "invalid api key")
            if self.delay:
                await asyncio.sleep(self.delay)
            with self._lock:
                answer = self.answers.pop(0) if self.answers else self.default
            if answer is None:
                return error(500, "nothing scripted")
            if callable(answer) and not isinstance(answer, Response):
                answer = answer(body)
                if inspect.isawaitable(answer):
                    answer = await answer
            if isinstance(answer, Response):
                return answer
            return JSONResponse(completion(answer, body.get("model", self.model)))

        return Starlette(routes=[Route("/v1/models", models),
                                 Route("/v1/chat/completions", chat, methods=["POST"])])


def main() -> None:
    """Serve a fake OpenAI-compatible server in its own process (for benchmarks): every chat
    answer asks the user a question `--delay` seconds after the request arrived, from a plain
    ASGI route (its own CPU shares the cores with what the benchmark measures)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    fake = FakeOpenAI(api_key="bench-key")
    app = fake.app()
    message = {"role": "assistant", "content": "", "tool_calls": [{
        "id": "call_0", "type": "function",
        "function": {"name": "prompt_user", "arguments": '{"question": "Where from?"}'}}]}
    body = json.dumps(completion(message, fake.model)).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]

    async def asgi(scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/chat/completions":
            await app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        answer_at = loop.time() + args.delay
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await asyncio.sleep(answer_at - loop.time())
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(asgi, host="127.0.0.1", port=args.port, log_level="warning",
                ssl_certfile=args.cert, ssl_keyfile=args.key, backlog=2048)


if __name__ == "__main__":
    main()
