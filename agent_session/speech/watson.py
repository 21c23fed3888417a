"""Shared set-up of the Watson Speech SDK clients (`ibm-watson`): IAM authentication against a
configurable token endpoint, the service URL, TLS verification and bounded retries."""

from __future__ import annotations

import re
from typing import Any

import httpx

from .stt.base import SpeechUnavailable

TOKEN_SUFFIX = "/identity/token"


def auth_base(auth_url: str | None) -> str | None:
    """`IAMAuthenticator` appends `/identity/token` itself; the setting gives the full URL."""
    if auth_url is None:
        return None
    return auth_url[: -len(TOKEN_SUFFIX)] if auth_url.rstrip("/").endswith(TOKEN_SUFFIX) \
        else auth_url


def configure(service_class: type, api_key: str, url: str, auth_url: str | None,
              verify: str, timeout: float, max_retries: int = 2) -> Any:
    from ibm_cloud_sdk_core.authenticators import IAMAuthenticator

    lowered = verify.strip().lower()
    verify_value: bool | str = (True if lowered in ("true", "1", "yes", "")
                                else False if lowered in ("false", "0", "no") else verify)
    authenticator = IAMAuthenticator(api_key, url=auth_base(auth_url),
                                     disable_ssl_verification=verify_value is False)
    if isinstance(verify_value, str):
        authenticator.token_manager.http_config = {"verify": verify_value, "timeout": timeout}
    service = service_class(authenticator=authenticator)
    service.set_service_url(url)
    service.set_http_config({"verify": verify_value, "timeout": timeout})
    if verify_value is False:
        service.set_disable_ssl_verification(True)
    service.enable_retries(max_retries=max_retries, retry_interval=0.5)
    return service


def _status(exc: BaseException) -> tuple[int | None, str]:
    """The HTTP status behind an SDK failure and the URL it came from, where known. Exhausted
    retries surface as requests' RetryError naming the status ("too many 503 error responses")."""
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "http_response", None)
    url = str(getattr(getattr(response, "request", None), "url", "") or "")
    if status is None and (found := re.search(r"too many (\d{3}) error", str(exc))):
        status = int(found.group(1))
    return (status if isinstance(status, int) else None), url


def describe(exc: BaseException, what: str) -> SpeechUnavailable:
    status, url = _status(exc)
    if status in (401, 403) or (status == 400 and url.endswith(TOKEN_SUFFIX)):
        return SpeechUnavailable(f"Watson {what} rejected the credentials; check the API key "
                                 "and auth URL.")
    if status == 429:
        return SpeechUnavailable(f"Watson {what} is rate limiting this service; retry shortly.")
    if status is not None:
        return SpeechUnavailable(f"Watson {what} answered HTTP {status}.")
    if isinstance(exc, httpx.HTTPError | ConnectionError | OSError):
        return SpeechUnavailable(f"Watson {what} is unreachable.")
    return SpeechUnavailable(f"Watson {what} failed ({type(exc).__name__}).")
