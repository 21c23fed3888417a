"""`LLM_BACKEND=openai`: any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp's
server, a LiteLLM proxy) through the official `openai` SDK (`AsyncOpenAI`).

- The SDK's httpx client runs on pyreqwest's connection pool (its public httpx transport), as the
  watsonx client does: the pool, HTTP and TLS off the event loop, many calls in flight, and our
  own limit on calls in flight, freed at once by a cancelled caller.
- `react` sends the actions as `tools` and reads `tool_calls`; a server that answers with text
  where a call was due (a model without tool support, Ollama ignoring `tool_choice`) gets one more
  chance: a JSON action in the text is taken, anything else becomes an observation, as with
  watsonx. `form` sends its extraction as `response_format` `json_schema` (OpenAI, vLLM,
  Ollama). The first such call is a probe without retries: a server that refuses that format
  (llama-cpp-python's server takes only `json_object` with a `schema`, and answers anything
  else with a 500) is asked again in that form, and the answer is remembered either way.
- The SDK's retries (`OPENAI_MAX_RETRIES`: 429, 5xx, connection errors) are the only retry layer;
  every call has the `LLM_TIMEOUT_SECONDS` deadline.
- The call goes through the SDK's documented request method (`client.post(path, body=...,
  cast_to=httpx.Response)`), with its auth, retries and errors, not `chat.completions.create`:
  `create` walks every nested key of the request against its typed dicts (the actions' JSON
  schemas included), 1.7 ms of CPU a call measured, and then validates the answer into models;
  with 64 calls in flight that CPU was a quarter of the turns' throughput. The answer is read
  as plain JSON, as watsonx's is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from ..errors import LLMBadResponse, LLMTimeout, LLMUnavailable, ServiceError
from .base import ActionCall, JSONRequest, LLMReply, LLMRequest
from .http_client import build_pool
from .messages import compact, json_object, to_chat_messages
from .watsonx import parse_json_action, parse_verify

log = logging.getLogger(__name__)
SERVER = "The OpenAI-compatible server"


def describe_failure(exc: BaseException) -> ServiceError:
    """The SDK's errors as the contract's statuses, with a detail an operator can act on."""
    import openai

    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return LLMTimeout(f"{SERVER} did not answer in time; try again in a moment.")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return LLMUnavailable(f"{SERVER} is unreachable; check OPENAI_BASE_URL and the network.")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMUnavailable(f"{SERVER} rejected the credentials; check OPENAI_API_KEY.")
    if isinstance(exc, openai.NotFoundError):
        return LLMUnavailable(f"{SERVER} does not serve that route or model; check "
                              "OPENAI_BASE_URL (it ends in /v1) and OPENAI_MODEL.")
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable(f"{SERVER} is rate limiting this service; retry shortly.")
    if isinstance(exc, openai.InternalServerError):
        return LLMUnavailable(f"{SERVER} is unavailable (HTTP {exc.status_code}); retry shortly.")
    if isinstance(exc, openai.APIStatusError):
        return LLMBadResponse(f"{SERVER} answered HTTP {exc.status_code}; the request was not "
                              "served.")
    if isinstance(exc, openai.APIResponseValidationError | ValueError | KeyError | TypeError):
        return LLMBadResponse(f"{SERVER} answered something that is not a chat completion.")
    return LLMUnavailable(f"{SERVER} could not be used: {type(exc).__name__}.")


class InFlightLimit(httpx.AsyncClient):
    """An httpx client whose requests in flight are bounded by an asyncio semaphore: a
    cancelled caller frees its slot at once (the pool's own limit would keep it until the
    abandoned request ends in Rust)."""

    def __init__(self, max_in_flight: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        async with self._in_flight:
            return await super().send(request, **kwargs)


class OpenAILLM:
    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None,
                 verify: str = "true", max_retries: int = 2, max_connections: int = 100,
                 timeout: float = 30.0, max_tokens: int = 512) -> None:
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._api_key = api_key
        self._verify = parse_verify(verify)
        self._max_retries = max_retries
        self._max_connections = max_connections
        self._timeout = timeout
        self._max_tokens = max_tokens
        self._client: Any = None
        self._json_format: str | None = None  # unknown until the first JSON request
        self._tools_for: list[dict[str, Any]] | None = None
        self._tools_list: list[dict[str, Any]] = []

    def _sdk(self) -> Any:
        """Built lazily, on the app's event loop (an async client from another loop fails)."""
        if self._client is None:
            from openai import AsyncOpenAI
            from pyreqwest.compatibility.httpx import HttpxTransport

            timeout = httpx.Timeout(self._timeout, connect=min(10.0, self._timeout))
            pool = build_pool(self._max_connections, self._verify, timeout)
            http = InFlightLimit(self._max_connections, transport=HttpxTransport(pool),
                                 timeout=timeout)
            # No key: the SDK insists on one, and a server without auth ignores the header.
            self._client = AsyncOpenAI(base_url=self._base_url, api_key=self._api_key or "none",
                                       max_retries=self._max_retries, timeout=timeout,
                                       http_client=http)
        return self._client

    async def check(self) -> None:
        try:
            await self._sdk().models.list()
        except Exception as exc:
            raise describe_failure(exc) from None

    async def complete(self, request: LLMRequest) -> LLMReply:
        messages = to_chat_messages(request.system_prompt, compact(request.messages), "native")
        response = await self._create(messages=messages, tools=self._tools(request.actions),
                                      tool_choice="auto")
        message = self._message(response)
        text = message.get("content") or ""
        calls = []
        for tool_call in message.get("tool_calls") or []:
            function = tool_call.get("function") if isinstance(tool_call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                calls.append(ActionCall(function["name"], function.get("arguments") or "{}",
                                        tool_call.get("id")))
        if not calls and isinstance(text, str):  # some servers put the call in the text
            calls = parse_json_action(text.strip())
        usage = response.get("usage") or {}
        return LLMReply(actions=calls, text=str(text),
                        prompt_tokens=usage.get("prompt_tokens", 0) or 0,
                        completion_tokens=usage.get("completion_tokens", 0) or 0)

    def _tools(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The request's `tools`, rebuilt only when another action list comes."""
        if self._tools_for is not actions:
            self._tools_list = [{"type": "function", "function": spec} for spec in actions]
            self._tools_for = actions
        return self._tools_list

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        import openai

        formats = {"json_schema": {"type": "json_schema",
                                   "json_schema": {"name": "answer", "schema": request.schema}},
                   "json_object": {"type": "json_object", "schema": request.schema}}
        arguments = {"messages": request.messages, "max_tokens": request.max_tokens}
        if self._json_format is None:
            try:
                response = await self._create(probe=True, response_format=formats["json_schema"],
                                              **arguments)
                self._json_format = "json_schema"
            except (openai.BadRequestError, openai.UnprocessableEntityError,
                    openai.InternalServerError) as exc:
                log.info("%s refused response_format json_schema (HTTP %s); using "
                         "json_object with a schema", SERVER, exc.status_code)
                self._json_format = "json_object"
                response = await self._create(response_format=formats["json_object"],
                                              **arguments)
        else:
            response = await self._create(response_format=formats[self._json_format],
                                          **arguments)
        content = self._message(response).get("content")
        return json_object(content if isinstance(content, str) else "", SERVER)

    async def _create(self, probe: bool = False, **arguments: Any) -> Any:
        """One chat completion. A `probe` is not retried and lets the server's refusal (400,
        422, 500) through for the caller to handle."""
        import openai

        body = {"model": self._model, "temperature": 0, "max_tokens": self._max_tokens,
                **arguments}
        client = self._sdk().with_options(max_retries=0) if probe else self._sdk()
        try:
            response = await client.post("/chat/completions", body=body, cast_to=httpx.Response)
            answer = response.json()
            if not isinstance(answer, dict):
                raise ValueError("not an object")
            return answer
        except asyncio.CancelledError:
            raise
        except (openai.BadRequestError, openai.UnprocessableEntityError,
                openai.InternalServerError) as exc:
            if probe:
                raise
            raise describe_failure(exc) from None
        except Exception as exc:
            raise describe_failure(exc) from None

    @staticmethod
    def _message(response: dict[str, Any]) -> dict[str, Any]:
        try:
            message = response["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise LLMBadResponse(f"{SERVER} answered without a message.") from None
        if not isinstance(message, dict):
            raise LLMBadResponse(f"{SERVER} answered without a message.")
        return message

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
