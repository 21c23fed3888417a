"""watsonx.ai through the real SDK (`ibm-watsonx-ai`): `ModelInference.achat` with the actions
as tools (`WX_TOOL_MODE=native`) or the action asked for as a JSON object (`json`).

The SDK's quirks are handled here, once:
- Clients are built lazily, on the app's event loop, never at import (an async client from
  another loop fails with "Event loop is closed"); the SDK's synchronous start-up calls (IAM
  token, project lookup, model specs) run in a worker thread under a deadline, and bad
  credentials leave the service up: `/ready` and `/chat` say what is wrong (503).
- TLS verification is always passed explicitly (left unset, the SDK turns verification off for
  the whole process when it meets a self-signed certificate).
- Our own httpx clients replace the SDK's, through `APIClient`'s public `httpx_client` and
  `async_httpx_client` parameters: the async one holds `WX_MAX_CONNECTIONS` requests in flight
  (the SDK's 10 serializes concurrent sessions) on pyreqwest's pool (`http_client.py`: its pool,
  HTTP and TLS run off the event loop), with no retry transport, so the only retry layer is
  `ModelInference`'s, bounded by `WX_MAX_RETRIES` (two stacked layers retried a 503 44 times).
- The SDK decides whether to dump every response for debug logging by its logger's own `level`
  (0, "not set", unless someone sets it), not by whether debug is enabled: it re-encoded each
  answer for a log line nobody reads. Its logger (by name) gets its effective level pinned.
- A non-IBM-Cloud URL needs `WX_PLATFORM_URL` (else the SDK takes the Cloud Pak for Data path)
  and `WX_AUTH_URL` (else the key goes to IBM's *test* IAM): missing ones are filled in or refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import time
from typing import Any
from urllib.parse import urlparse

import httpx
from ibm_watsonx_ai.wml_client_error import AuthenticationError, InvalidCredentialsError

from ..errors import LLMBadResponse, LLMTimeout, LLMUnavailable, ServiceError
from .base import ActionCall, JSONRequest, LLMReply, LLMRequest
from .http_client import async_client, parse_verify
from .messages import compact, json_object, parse_json_action, to_chat_messages

log = logging.getLogger(__name__)

JSON_INSTRUCTIONS = (
    "\n\nReply with exactly one JSON object and nothing else: "
    '{"name": "<action name>", "arguments": {...}}.'
)
RETRY_AFTER_FAILURE_SECONDS = 10.0
SDK_LOGGER = "ibm_watsonx_ai.wml_resource"  # the logger whose level decides the SDK's dumps


def tls_context(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx wants a CA bundle as an SSL context."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


def describe_failure(exc: BaseException) -> ServiceError:
    """Map an SDK or transport failure to the contract's statuses with a useful detail."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return LLMTimeout("watsonx.ai did not answer in time; try again in a moment.")
    if isinstance(exc, httpx.TransportError):
        return LLMUnavailable(f"watsonx.ai is unreachable ({type(exc).__name__}); check WX_URL "
                              "and the network.")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        return LLMUnavailable("watsonx.ai rejected the credentials; check WX_API_KEY, "
                              "WX_AUTH_URL and WX_PROJECT_ID.")
    if status == 429:
        return LLMUnavailable("watsonx.ai is rate limiting this service; retry shortly.")
    if status in (502, 503, 504):
        return LLMUnavailable(f"watsonx.ai is unavailable (HTTP {status}); retry shortly.")
    if status is not None:
        return LLMBadResponse(f"watsonx.ai answered HTTP {status}; the request was not served.")
    if isinstance(exc, InvalidCredentialsError | AuthenticationError):  # the IAM token call
        return LLMUnavailable("watsonx.ai rejected the credentials; check WX_API_KEY, "
                              "WX_AUTH_URL and WX_PROJECT_ID.")
    # A 200 whose body does not parse: the SDK raises its own error from the JSON one.
    if isinstance(exc, ValueError | KeyError | TypeError) or \
            isinstance(exc.__context__, ValueError):
        # A 200 whose body is not the chat answer it should be: the model service is broken.
        return LLMBadResponse("watsonx.ai answered something that is not a chat completion.")
    return LLMUnavailable(f"watsonx.ai could not be used: {type(exc).__name__}.")


class WatsonxLLM:
    name = "watsonx"

    def __init__(self, *, api_key: str, url: str, project_id: str | None, model_id: str,
                 auth_url: str | None = None, platform_url: str | None = None,
                 verify: str = "true", tool_mode: str = "native", max_retries: int = 2,
                 max_connections: int = 100, timeout: float = 30.0,
                 max_tokens: int = 512) -> None:
        self._api_key = api_key
        self._url = url.rstrip("/")
        self._project_id = project_id
        self._model_id = model_id
        self._auth_url = auth_url
        self._platform_url = platform_url
        self._verify = parse_verify(verify)
        self._tool_mode = tool_mode
        self._max_retries = max_retries
        self._max_connections = max_connections
        self._timeout = timeout
        self._max_tokens = max_tokens
        self._model: Any = None
        self._async_http: httpx.AsyncClient | None = None
        self._sync_http: httpx.Client | None = None
        self._lock = asyncio.Lock()
        self._failure: tuple[float, ServiceError] | None = None
        self._tools_for: list[dict[str, Any]] | None = None
        self._tools_list: list[dict[str, Any]] = []

    # -- set-up --------------------------------------------------------------------------------

    def _endpoints(self) -> tuple[str | None, str | None]:
        """(platform_url, auth_url) to hand the SDK; refuses settings that would send the key
        somewhere unintended."""
        from ibm_watsonx_ai import APIClient

        if urlparse(self._url).scheme != "https":
            raise LLMUnavailable("WX_URL must be an https URL.")
        cloud = self._url in APIClient.PLATFORM_URLS_MAP
        platform = self._platform_url or (None if cloud else self._url)
        if self._auth_url is None and not cloud:
            raise LLMUnavailable("WX_URL is not an IBM Cloud region: set WX_AUTH_URL to your IAM "
                                 "token endpoint (…/identity/token).")
        return platform, self._auth_url

    def _build(self, async_http: httpx.AsyncClient, sync_http: httpx.Client) -> Any:
        """The SDK objects; runs in a worker thread (the SDK's start-up calls are blocking)."""
        from ibm_watsonx_ai import APIClient, Credentials
        from ibm_watsonx_ai.foundation_models import ModelInference

        sdk_log = logging.getLogger(SDK_LOGGER)
        if sdk_log.level == logging.NOTSET:
            sdk_log.setLevel(sdk_log.getEffectiveLevel())

        for stray in ("PROJECT_ID", "USER_ACCESS_TOKEN"):
            if os.environ.get(stray):
                log.warning("%s is set in the environment; the watsonx SDK may read it. "
                            "This service uses WX_PROJECT_ID and WX_API_KEY only.", stray)
        platform, auth = self._endpoints()
        credentials = Credentials(url=self._url, api_key=self._api_key, auth_url=auth,
                                  platform_url=platform, verify=self._verify)
        client = APIClient(credentials=credentials, project_id=self._project_id,
                           httpx_client=sync_http, async_httpx_client=async_http)
        return ModelInference(model_id=self._model_id, api_client=client,
                              project_id=self._project_id,
                              max_retries=self._max_retries, delay_time=0.5,
                              retry_status_codes=[429, 503, 504])

    async def _ensure(self) -> Any:
        if self._model is not None:
            return self._model
        async with self._lock:
            if self._model is not None:
                return self._model
            if self._failure and time.monotonic() - self._failure[0] < RETRY_AFTER_FAILURE_SECONDS:
                raise self._failure[1]
            timeout = httpx.Timeout(self._timeout, connect=min(10.0, self._timeout))
            self._async_http = async_client(self._max_connections, self._verify, timeout)
            self._sync_http = httpx.Client(verify=tls_context(self._verify), timeout=timeout)
            try:
                self._model = await asyncio.wait_for(
                    asyncio.to_thread(self._build, self._async_http, self._sync_http),
                    timeout=self._timeout * 2)
            except Exception as exc:  # every start-up failure becomes a 503 with a reason
                error = describe_failure(exc)
                if isinstance(error, LLMTimeout | LLMBadResponse):
                    error = LLMUnavailable(f"watsonx.ai could not be set up: {error.detail}")
                log.warning("watsonx.ai set-up failed: %s", error.detail)
                self._failure = (time.monotonic(), error)
                await self._close_http()
                raise error from None
            self._failure = None
            return self._model

    # -- protocol ------------------------------------------------------------------------------

    async def check(self) -> None:
        await self._ensure()

    async def complete(self, request: LLMRequest) -> LLMReply:
        model = await self._ensure()
        events = compact(request.messages)
        params: dict[str, Any] = {"temperature": 0, "max_tokens": self._max_tokens}
        try:
            if self._tool_mode == "json":
                messages = to_chat_messages(request.system_prompt + JSON_INSTRUCTIONS, events,
                                            "json")
                params["response_format"] = {"type": "json_object"}
                response = await model.achat(messages=messages, params=params)
            else:
                messages = to_chat_messages(request.system_prompt, events, "native")
                tools = self._tools(request.actions)
                response = await model.achat(messages=messages, params=params, tools=tools,
                                             tool_choice_option="auto")
        except Exception as exc:
            raise describe_failure(exc) from None
        return self._reply(response)

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        """JSON mode with the schema spelled out in the system message (the chat API's
        `json_object` format is what every watsonx chat model accepts)."""
        model = await self._ensure()
        messages = [dict(m) for m in request.messages]
        messages[0]["content"] += ("\n\nReply with one JSON object that fits this schema: "
                                   + json.dumps(request.schema))
        params = {"temperature": 0, "max_tokens": request.max_tokens,
                  "response_format": {"type": "json_object"}}
        try:
            response = await model.achat(messages=messages, params=params)
        except Exception as exc:
            raise describe_failure(exc) from None
        try:
            text = response["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMBadResponse("watsonx.ai answered without a message.") from None
        return json_object(text, "watsonx.ai")

    def _tools(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The chat API's `tools` for `actions`, rebuilt only when another list comes (the
        registry hands out the same one every turn)."""
        if self._tools_for is not actions:
            self._tools_list = [{"type": "function", "function": spec} for spec in actions]
            self._tools_for = actions
        return self._tools_list

    def _reply(self, response: Any) -> LLMReply:
        try:
            choice = response["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise LLMBadResponse("watsonx.ai answered without a message.") from None
        usage = response.get("usage") or {}
        text = choice.get("content") or ""
        calls = []
        for tool_call in choice.get("tool_calls") or []:
            function = tool_call.get("function") or {}
            name = function.get("name")
            if isinstance(name, str):
                calls.append(ActionCall(name, function.get("arguments") or "{}",
                                        tool_call.get("id")))
        if not calls and self._tool_mode == "json":
            calls = parse_json_action(text)
        return LLMReply(actions=calls, text=text,
                        prompt_tokens=usage.get("prompt_tokens", 0),
                        completion_tokens=usage.get("completion_tokens", 0))

    async def _close_http(self) -> None:
        if self._async_http is not None:
            await self._async_http.aclose()
        if self._sync_http is not None:
            self._sync_http.close()
        self._async_http = self._sync_http = None

    async def close(self) -> None:
        self._model = None
        await self._close_http()
