"""Liveness (`/health`, no backend calls) and readiness (`/ready`, every backend asked)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from ..errors import LLMUnavailable, ServiceError, Unauthorized
from ..schemas import Health
from ..services import Services
from .deps import get_services, require_api_key

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 5.0


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(status="healthy")


async def _check(name: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return name, f"no answer within {CHECK_TIMEOUT:g} s"
    except ServiceError as exc:
        return name, exc.detail
    except Exception as exc:
        return name, f"{type(exc).__name__}"
    return name, "ok"


@router.get("/metrics", dependencies=[Depends(require_api_key)],
            response_class=PlainTextResponse)
async def metrics(services: Services = Depends(get_services)) -> PlainTextResponse:
    services.metrics.active_sessions.set(await services.manager.count_live())
    return PlainTextResponse(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/ready")
async def ready(request: Request, services: Services = Depends(get_services)) -> JSONResponse:
    """Open to probes (Code Engine's and Kubernetes' cannot send a key): the status code says
    ready (200) or not (503); which backend failed is told only to callers with a key."""
    async def warmed_up() -> None:
        if not services.manager.taking_turns:
            raise LLMUnavailable("shutting down: in-flight turns are finishing")
        if services.warm_up is not None and not services.warm_up.done():
            raise LLMUnavailable("starting: the embedded model is reading its agents' prompts "
                                 "(about 25 s an agent after start-up)")

    results = dict(await asyncio.gather(
        _check("session_store", services.store.ping),
        _check("llm", services.llm.check),
        _check("agent", warmed_up),
        *([_check("places", services.places.check)] if services.places else []),
        _check("stt", services.speech.stt.check),
        _check("tts", services.speech.tts.check),
    ))
    failed = {name: state for name, state in results.items() if state != "ok"}
    try:
        await require_api_key(request)
    except Unauthorized:
        return (JSONResponse({"detail": "Not ready."}, status_code=503) if failed
                else JSONResponse({"status": "ready"}))
    if failed:
        detail = "Not ready: " + "; ".join(f"{n}: {s}" for n, s in failed.items())
        return JSONResponse({"detail": detail, "checks": results}, status_code=503)
    return JSONResponse({"status": "ready", "checks": results})
