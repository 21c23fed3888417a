"""Errors the service raises on purpose, each carrying its HTTP status and a user-facing detail.

Routers never build error responses themselves: one exception handler in `main.py` turns any
`ServiceError` into `{"detail": ...}` with its status.
"""

from __future__ import annotations


class ConfigurationError(ValueError):
    """A setting that cannot work (a backend chosen without its credentials, an unknown store
    URL): every backend factory raises it, so the service refuses to start and says which
    setting to fix. A backend that is configured but unreachable is not this: the service
    starts and `/ready` says what fails."""


class ServiceError(Exception):
    """Base of every expected failure; `detail` is a sentence a user can act on."""

    status_code = 500

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class SessionNotFound(ServiceError):
    status_code = 404


class SessionForbidden(ServiceError):
    status_code = 403


class SessionBusy(ServiceError):
    status_code = 409


class VersionConflict(ServiceError):
    """A concurrent writer saved the session first; the turn's writes were not applied."""

    status_code = 409


class LLMUnavailable(ServiceError):
    """The LLM is unreachable, rate limited, rejects our credentials, or none is configured."""

    status_code = 503


class LLMBusy(LLMUnavailable):
    """The one embedded model has more calls waiting than it can serve within their deadline:
    refused at once (503 with `Retry-After`) rather than queued to a 504."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, round(retry_after)))})


class LLMTimeout(ServiceError):
    status_code = 504


class TurnTimeout(ServiceError):
    """The turn's steps together ran past `TURN_TIMEOUT_SECONDS`; nothing was saved."""

    status_code = 504


class ShuttingDown(ServiceError):
    """This instance received its stop signal: new turns go to another (503, Retry-After)."""

    status_code = 503

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


class LLMBadResponse(ServiceError):
    """The LLM answered with an error or nonsense past the retry budget."""

    status_code = 502


class Unauthorized(ServiceError):
    status_code = 401


class RateLimited(ServiceError):
    status_code = 429


class UnknownAgent(ServiceError):
    """A turn or a lookup named an agent this service does not run."""

    status_code = 404


class AgentMismatch(ServiceError):
    """A turn named another agent than the one its session belongs to."""

    status_code = 409


class LeaseLost(ServiceError):
    """The turn's lease on its session lapsed and another holder may have it: the turn stops."""

    status_code = 409


class RewindTooFar(ServiceError):
    """A rewind asked for more user turns than the session holds."""

    status_code = 422


class TurnCancelled(ServiceError):
    """The cancel route stopped the turn; nothing was saved."""

    status_code = 409
