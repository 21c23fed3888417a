"""Dependencies shared by routers: the app's services and API-key checking."""

from __future__ import annotations

from fastapi import Request

from ..access import check_key, key_in_headers, limit_caller, limit_user
from ..services import Services

__all__ = ["get_services", "guard", "limit_user", "presented_key", "require_api_key"]


async def get_services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    (and GIL contention) on every request for one attribute read."""
    return request.app.state.services


def presented_key(request: Request) -> str | None:
    return key_in_headers(request.headers)


async def rate_limit_caller(request: Request) -> None:
    """429 past `RATE_LIMIT` for this API key (or client address when the service is open)."""
    address = request.client.host if request.client else None
    await limit_caller(request.app.state.services, presented_key(request), address)


async def guard(request: Request) -> None:
    """Every guarded route's one dependency: the API key (401), then the caller's rate limit
    (429). One dependency, not two: FastAPI's per-dependency cost is paid on every request."""
    await require_api_key(request)
    await rate_limit_caller(request)


async def require_api_key(request: Request) -> None:
    """401 unless `API_KEYS` is empty or the request carries one of them (constant-time)."""
    check_key(request.app.state.services, presented_key(request),
              "in X-API-Key or as a Bearer token")
