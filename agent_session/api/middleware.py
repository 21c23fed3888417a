"""ASGI middleware: a request id on every request (and log line), a request body bound, the
forwarded scheme, client and host from a trusted proxy, and a trace span per request."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import uuid

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..logging_setup import request_id_var, session_id_var


class RequestContextMiddleware:
    """Takes `X-Request-ID` from the caller (or makes one), exposes it to logging and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        usable = given and len(given) <= 64 and given.isprintable()
        request_id = given if usable else uuid.uuid4().hex
        request_id_var.set(request_id)
        session_id_var.set("-")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """413 for a request body over `max_bytes`, declared or streamed, before a route reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0
        exceeded = started = False

        async def counted() -> Message:
            # Past the bound the app is told the client left; its answer is dropped for ours.
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": f"The request body is larger than {self.max_bytes} bytes."})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})


class TrustedProxyMiddleware:
    """Behind a proxy in `trusted` (comma-separated addresses or networks, `*` for any), the
    request's scheme, client and host are the ones the proxy forwards: `X-Forwarded-Proto` and
    `-For` through uvicorn's own middleware, `X-Forwarded-Host` here (uvicorn ignores it). The
    server runs with its own proxy handling off, so this is the one place that decides."""

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]
        entries = [entry.strip() for entry in trusted.split(",") if entry.strip()]
        self.any = "*" in entries
        self.networks = []
        for entry in entries:
            if entry != "*":
                with contextlib.suppress(ValueError):
                    self.networks.append(ipaddress.ip_network(entry, strict=False))

    def trusts(self, peer: str | None) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            forwarded = dict(scope["headers"]).get(b"x-forwarded-host")
            if forwarded and self.trusts(client[0] if client else None):
                host = forwarded.split(b",")[0].strip()
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [
                    (b"host", host)]
        await self.app(scope, receive, send)  # type: ignore[arg-type]


class TracingMiddleware:
    """A server span per HTTP request when the app's tracing is on, joining the caller's trace
    (`traceparent`); named by method and route template once routing has matched. Probes
    (`/health`, `/ready`) are left out: every few seconds, they would bury the turns."""

    UNTRACED = frozenset({"/health", "/ready"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        tracing = services.tracing if services is not None else None
        if scope["type"] != "http" or tracing is None or tracing.tracer is None or \
                scope["path"] in self.UNTRACED:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        attributes = {"http.request.method": method, "url.path": scope["path"],
                      "url.scheme": scope.get("scheme", "http"),
                      "user_agent.original": headers.get("user-agent", "")}
        with tracing.tracer.start_as_current_span(
                method, context=propagate.extract(headers), kind=SpanKind.SERVER,
                attributes=attributes) as span:

            async def traced_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, traced_send)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
