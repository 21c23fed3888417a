"""Builds the configured LLM client from `LLM_BACKEND`; the only place naming LLM backends."""

from __future__ import annotations

from ..config import Settings
from .base import LLMClient
from .unavailable import UnavailableLLM


def build_llm_client(settings: Settings) -> LLMClient:
    """Never raises for a backend that cannot start: it returns a client that answers 503 with
    the reason, so the service stays up and `/ready` says what is wrong."""
    backend = settings.llm_backend
    if backend == "auto":
        backend = "watsonx" if settings.wx_api_key is not None else "local"
    if backend == "none":
        return UnavailableLLM("No LLM backend is configured (LLM_BACKEND=none).")
    return UnavailableLLM(
        f"The {backend!r} LLM backend is not available in this build; "
        "set LLM_BACKEND to a backend that is installed."
    )
