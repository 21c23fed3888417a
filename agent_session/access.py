"""The edge every front shares (HTTP routes, the browser's voice socket, the phone streams): API
keys, rate limits and who may use a session, as plain functions of the services, so no transport
re-implements them."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from .errors import SessionNotFound, ShuttingDown, Unauthorized
from .services import Services


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


def check_key(services: Services, given: str | None, where: str) -> None:
    """401 unless `API_KEYS` is empty or `given` is one of them; `where` says how to send it."""
    keys = services.settings.api_keys
    if not keys:
        return
    if given is None:
        raise Unauthorized(f"An API key is required: send it {where}.")
    if not key_accepted(keys, given):
        raise Unauthorized("The API key is not valid.")


async def limit_caller(services: Services, key: str | None, address: str | None) -> None:
    """429 past `RATE_LIMIT` for this API key (or client address when the service is open)."""
    if services.limiter is not None:
        await services.limiter.hit_caller(key, address)


async def limit_user(services: Services, user_id: str | None) -> None:
    """429 past `RATE_LIMIT` for this user, whichever key or address they come from."""
    if services.limiter is not None:
        await services.limiter.hit_user(user_id)


async def check_session(services: Services, session_id: str | None, user_id: str | None,
                        agent: str | None) -> None:
    """Before a long-lived front (a voice call) starts: 503 when shutting down, 404 for an
    unknown agent, 403 for another user's session, 409 for another agent's. A turn checks the
    same again under its lock (`SessionManager.agent_for`)."""
    if not services.manager.taking_turns:
        raise ShuttingDown("This instance is shutting down; connect again.")
    if agent is not None:
        services.agents.get(agent)
    if session_id is None:
        return
    try:
        stored = await services.manager.get(session_id)
    except SessionNotFound:
        return
    services.manager.agent_for(stored, user_id, agent)
