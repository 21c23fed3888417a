"""The application factory: `create_app(settings)` builds the service graph in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from . import __version__
from .api import (
    a2a,
    agents,
    chat,
    chat_completions,
    health,
    sessions,
    speech,
    telephony,
    tool_spec,
    voice,
    voice_ws,
    web,
)
from .api.chat_completions import openai_error
from .api.deps import guard
from .api.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    TracingMiddleware,
    TrustedProxyMiddleware,
)
from .config import Settings
from .errors import ConfigurationError, ServiceError
from .logging_setup import configure_logging
from .services import Overrides, build_services, prepare_all

log = logging.getLogger(__name__)


def _count_error(request: Request, kind: str) -> None:
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.errors.labels(kind).inc()


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_file, settings.secrets())
        try:
            services = build_services(settings, overrides)
        except ConfigurationError as exc:
            log.error("cannot start: %s", exc)
            raise
        interval = max(0.05, min(60.0, settings.session_ttl_seconds / 4))
        services.tasks.append(asyncio.create_task(services.manager.sweep_forever(interval)))
        if services.webhooks is not None:
            services.tasks.append(asyncio.create_task(services.webhooks.run()))
        if any(agent.strategy.needs_warm_up for agent in services.agents):
            services.warm_up = asyncio.create_task(prepare_all(services.agents))
            services.tasks.append(services.warm_up)
        app.state.services = services
        log.info("service started: llm=%s agents=%s (default %s) store=%s places=%s",
                 services.llm.name,
                 ", ".join(f"{a.name} ({a.strategy.name})" for a in services.agents),
                 services.agents.default, settings.session_store.split("://")[0],
                 services.places.name if services.places else "none")
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="Agent Session Service", version=__version__, lifespan=lifespan)
    app.state.settings = settings

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        log.info("%s %s -> %d %s", request.method, request.url.path, exc.status_code, exc.detail)
        _count_error(request, type(exc).__name__)
        if request.url.path.startswith("/v1/"):  # the OpenAI protocol's own error shape
            return openai_error(exc.status_code, exc.detail, headers=exc.headers)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith("/v1/"):  # the OpenAI protocol: 400 with a message
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "body"
            return openai_error(400, f"{where}: {first.get('msg', 'invalid request')}", where)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        _count_error(request, "Internal")
        return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)

    guarded = [Depends(guard)]
    app.include_router(health.router)
    app.include_router(chat.router, dependencies=guarded)
    app.include_router(agents.router, dependencies=guarded)
    app.include_router(chat_completions.router, dependencies=guarded)
    app.include_router(a2a.router, dependencies=guarded)
    app.include_router(a2a.cards)  # agent cards are public: discovery sends no key
    app.include_router(sessions.router, dependencies=guarded)
    app.include_router(speech.router, dependencies=guarded)
    app.include_router(voice.router, dependencies=guarded)
    app.include_router(tool_spec.router, dependencies=guarded)
    app.include_router(voice_ws.router)  # checks the key itself (it may come in a message)
    app.include_router(telephony.router)  # Twilio's signature, stream bindings, Exotel's key
    app.include_router(web.router)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_credentials="*" not in settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.forwarded_allow_ips)
    app.add_middleware(TracingMiddleware)
    return app
