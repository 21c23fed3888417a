"""Builds the configured LLM client from `LLM_BACKEND`; the only place naming LLM backends."""

from __future__ import annotations

from ..config import Settings
from ..errors import ConfigurationError
from .base import LLMClient
from .unavailable import UnavailableLLM


def build_llm_client(settings: Settings) -> LLMClient:
    """`ConfigurationError` for a backend chosen without its settings. A configured backend
    that cannot serve (unreachable, credentials rejected, model missing) answers 503 with the
    reason at run time, so the service stays up and `/ready` says what is wrong."""
    backend = settings.llm_backend
    if backend == "auto":
        backend = ("watsonx" if settings.wx_api_key is not None
                   else "openai" if settings.openai_base_url else "local")
    if backend == "echo":
        from .echo import EchoLLM

        return EchoLLM()
    if backend == "none":
        return UnavailableLLM("No LLM backend is configured (LLM_BACKEND=none).")
    if backend == "watsonx":
        if settings.wx_api_key is None or not settings.wx_url:
            raise ConfigurationError("LLM_BACKEND=watsonx needs WX_API_KEY and WX_URL.")
        from .watsonx import WatsonxLLM

        return WatsonxLLM(
            api_key=settings.wx_api_key.get_secret_value(), url=settings.wx_url,
            project_id=settings.wx_project_id, model_id=settings.wx_model_id,
            auth_url=settings.wx_auth_url, platform_url=settings.wx_platform_url,
            verify=settings.wx_verify, tool_mode=settings.wx_tool_mode,
            max_retries=settings.wx_max_retries, max_connections=settings.wx_max_connections,
            timeout=settings.llm_timeout_seconds)
    if backend == "openai":
        if not settings.openai_base_url or not settings.openai_model:
            raise ConfigurationError("LLM_BACKEND=openai needs OPENAI_BASE_URL and "
                                     "OPENAI_MODEL.")
        from .openai_chat import OpenAILLM

        key = settings.openai_api_key
        return OpenAILLM(base_url=settings.openai_base_url, model=settings.openai_model,
                         api_key=key.get_secret_value() if key is not None else None,
                         verify=settings.openai_verify,
                         max_retries=settings.openai_max_retries,
                         timeout=settings.llm_timeout_seconds)
    from .local import LocalLLM

    return LocalLLM(settings.local_model_path, settings.model_cache_dir,
                    timeout=settings.llm_timeout_seconds)
