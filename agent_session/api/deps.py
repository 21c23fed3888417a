"""Dependencies shared by routers: the app's services and API-key checking."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import Request

from ..errors import Unauthorized
from ..services import Services


async def get_services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    (and GIL contention) on every request for one attribute read."""
    return request.app.state.services


def presented_key(request: Request) -> str | None:
    return key_in_headers(request.headers)


def key_in_headers(headers: Mapping[str, str]) -> str | None:
    """The key in `X-API-Key`, else a Bearer token."""
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def key_accepted(keys: list[str], given: str | None) -> bool:
    """Whether `given` is one of `keys`, compared in constant time."""
    if given is None:
        return False
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


async def rate_limit_caller(request: Request) -> None:
    """429 past `RATE_LIMIT` for this API key (or client address when the service is open)."""
    limiter = request.app.state.services.limiter
    if limiter is not None:
        address = request.client.host if request.client else None
        await limiter.hit_caller(presented_key(request), address)


async def limit_user(services: Services, user_id: str | None) -> None:
    """429 past `RATE_LIMIT` for this user, whichever key or address they come from."""
    if services.limiter is not None:
        await services.limiter.hit_user(user_id)


async def guard(request: Request) -> None:
    """Every guarded route's one dependency: the API key (401), then the caller's rate limit
    (429). One dependency, not two: FastAPI's per-dependency cost is paid on every request."""
    await require_api_key(request)
    await rate_limit_caller(request)


async def require_api_key(request: Request) -> None:
    """401 unless `API_KEYS` is empty or the request carries one of them (constant-time)."""
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    given = presented_key(request)
    if given is None:
        raise Unauthorized("An API key is required: send it in X-API-Key or as a Bearer token.")
    if not key_accepted(keys, given):
        raise Unauthorized("The API key is not valid.")
