"""`LLM_BACKEND=openai`: any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp's
server, a LiteLLM proxy), as plain JSON over pyreqwest's connection pool.

Not through the official `openai` SDK: measured with 64 calls in flight, its
`chat.completions.create` cost 3.8 ms of CPU a call (it walks every nested key of the request,
the actions' JSON schemas included, against its typed dicts) and its documented low-level
`client.post` still 1.2 ms (httpx's request machinery and its request options); on the one event
loop all sessions share, that held the service to 0.75 of the ideal turn rate from a standing
start (`bench/README.md`). Posting the JSON on pyreqwest (pool, HTTP and TLS in Rust, off the
loop), as the watsonx client's chat call does, costs a fraction of that. What the SDK did for us
is here, small: Bearer auth, retries (`OPENAI_MAX_RETRIES`: 408, 409, 429, 5xx and connection
errors, honouring `Retry-After`), and errors by status.

- Calls in flight are bounded by an asyncio semaphore, so a cancelled call frees its slot at once
  (pyreqwest runs an abandoned request on; the read timeout ends it).
- `react` sends the actions as `tools` and reads `tool_calls`; a JSON action in the text is taken
  too, and other text where a call was due becomes an observation, as with watsonx.
- `form` sends `response_format` `json_schema` (OpenAI, vLLM, Ollama). The first such call is a
  probe without retries: a server that refuses it with 400, 422 or 500 (llama-cpp-python's takes
  only `json_object` with a `schema`, and answers anything else with a 500) is asked again in
  that form, and the answer is remembered either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

import httpx

from .. import turn_budget
from ..errors import LLMBadResponse, LLMTimeout, LLMUnavailable, ServiceError
from .base import ActionCall, JSONRequest, LLMReply, LLMRequest
from .http_client import build_pool, parse_verify
from .messages import compact, json_object, parse_json_action, to_chat_messages

log = logging.getLogger(__name__)
SERVER = "The OpenAI-compatible server"
RETRIED = {408, 409, 429}
REFUSED_FORMAT = {400, 422, 500}
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER = 8.0


class StatusError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def describe_status(status: int) -> ServiceError:
    """An error status as the contract's statuses, with a detail an operator can act on."""
    if status in (401, 403):
        return LLMUnavailable(f"{SERVER} rejected the credentials; check OPENAI_API_KEY.")
    if status == 404:
        return LLMUnavailable(f"{SERVER} does not serve that route or model; check "
                              "OPENAI_BASE_URL (it ends in /v1) and OPENAI_MODEL.")
    if status == 429:
        return LLMUnavailable(f"{SERVER} is rate limiting this service; retry shortly.")
    if status >= 500:
        return LLMUnavailable(f"{SERVER} is unavailable (HTTP {status}); retry shortly.")
    return LLMBadResponse(f"{SERVER} answered HTTP {status}; the request was not served.")


def may_retry(attempt: int, retries: int, wait: float) -> bool:
    """Another try only within `OPENAI_MAX_RETRIES` and while the turn has time for the wait
    and a call after it: a retry that cannot finish in time is not started."""
    return attempt < retries and turn_budget.left(math.inf) > wait * 2


def _retry_after(headers: Any) -> float | None:
    try:
        value = float(dict(headers).get("retry-after", ""))
    except (TypeError, ValueError):
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER)


class OpenAILLM:
    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None,
                 verify: str = "true", max_retries: int = 2, max_connections: int = 100,
                 timeout: float = 30.0, max_tokens: int = 512) -> None:
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._verify = parse_verify(verify)
        self._max_retries = max_retries
        self._max_connections = max_connections
        self._timeout = timeout
        self._max_tokens = max_tokens
        self._pool: Any = None
        self._in_flight = asyncio.Semaphore(max_connections)
        self._json_format: str | None = None  # unknown until the first JSON request
        self._tools_for: list[dict[str, Any]] | None = None
        self._tools_list: list[dict[str, Any]] = []

    def _client(self) -> Any:
        """Built lazily, on the app's event loop."""
        if self._pool is None:
            timeout = httpx.Timeout(self._timeout, connect=min(10.0, self._timeout))
            self._pool = build_pool(self._max_connections, self._verify, timeout)
        return self._pool

    # -- protocol ------------------------------------------------------------------------------

    async def check(self) -> None:
        try:
            await self._call("GET", "/models", None, self._max_retries)
        except StatusError as exc:
            raise describe_status(exc.status) from None

    async def complete(self, request: LLMRequest) -> LLMReply:
        messages = to_chat_messages(request.system_prompt, compact(request.messages), "native")
        response = await self._chat({"messages": messages, "tools": self._tools(request.actions),
                                     "tool_choice": "auto"})
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

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        formats = {"json_schema": {"type": "json_schema",
                                   "json_schema": {"name": "answer", "schema": request.schema}},
                   "json_object": {"type": "json_object", "schema": request.schema}}
        body = {"messages": request.messages, "max_tokens": request.max_tokens}
        if self._json_format is None:
            try:
                response = await self._chat({**body, "response_format": formats["json_schema"]},
                                            probe=True)
                self._json_format = "json_schema"
            except StatusError as exc:
                if exc.status not in REFUSED_FORMAT:
                    raise describe_status(exc.status) from None
                log.info("%s refused response_format json_schema (HTTP %d); using "
                         "json_object with a schema", SERVER, exc.status)
                self._json_format = "json_object"
                response = await self._chat({**body, "response_format": formats["json_object"]})
        else:
            response = await self._chat({**body,
                                         "response_format": formats[self._json_format]})
        content = self._message(response).get("content")
        return json_object(content if isinstance(content, str) else "", SERVER)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    # -- the wire ------------------------------------------------------------------------------

    def _tools(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The request's `tools`, rebuilt only when another action list comes."""
        if self._tools_for is not actions:
            self._tools_list = [{"type": "function", "function": spec} for spec in actions]
            self._tools_for = actions
        return self._tools_list

    async def _chat(self, body: dict[str, Any], probe: bool = False) -> dict[str, Any]:
        """One chat completion. A `probe` is not retried, and its error status is raised as
        `StatusError` for the caller to read."""
        payload = {"model": self._model, "temperature": 0, "max_tokens": self._max_tokens,
                   **body}
        try:
            return await self._call("POST", "/chat/completions", payload,
                                    0 if probe else self._max_retries)
        except StatusError as exc:
            if probe:
                raise
            raise describe_status(exc.status) from None

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None,
                    retries: int) -> dict[str, Any]:
        from pyreqwest.exceptions import (
            ConnectTimeoutError,
            PoolTimeoutError,
            PyreqwestError,
            ReadTimeoutError,
            RequestTimeoutError,
            WriteTimeoutError,
        )

        url = f"{self._base_url}{path}"
        data = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(retries + 1):
            wait = BACKOFF_SECONDS * 2 ** attempt
            try:
                async with self._in_flight:
                    builder = (self._client().post(url).body_bytes(data) if data is not None
                               else self._client().get(url))
                    answer = await builder.headers(self._headers).build().send()
                    raw = bytes(await answer.bytes())
            except (ConnectTimeoutError, ReadTimeoutError, RequestTimeoutError,
                    WriteTimeoutError, PoolTimeoutError):
                if may_retry(attempt, retries, wait):
                    await asyncio.sleep(wait)
                    continue
                raise LLMTimeout(f"{SERVER} did not answer in time; try again in a moment.") \
                    from None
            except PyreqwestError:
                if may_retry(attempt, retries, wait):
                    await asyncio.sleep(wait)
                    continue
                raise LLMUnavailable(f"{SERVER} is unreachable; check OPENAI_BASE_URL and the "
                                     "network.") from None
            status = answer.status
            if status < 400:
                try:
                    value = json.loads(raw)
                except ValueError:
                    value = None
                if not isinstance(value, dict):
                    raise LLMBadResponse(f"{SERVER} answered something that is not a chat "
                                         "completion.")
                return value
            wait = _retry_after(answer.headers.items()) or wait
            if (status in RETRIED or status >= 500) and may_retry(attempt, retries, wait):
                await asyncio.sleep(wait)
                continue
            raise StatusError(status)
        raise AssertionError("unreachable")

    @staticmethod
    def _message(response: dict[str, Any]) -> dict[str, Any]:
        try:
            message = response["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise LLMBadResponse(f"{SERVER} answered without a message.") from None
        if not isinstance(message, dict):
            raise LLMBadResponse(f"{SERVER} answered without a message.")
        return message
