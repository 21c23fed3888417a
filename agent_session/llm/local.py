"""The embedded LLM: a GGUF model run in-process by llama-cpp-python.

The prompt is the model's own chat template with the actions passed as tools, and the output is
constrained by a grammar to the model's trained tool-call format, `<tool_call>{json}</tool_call>`,
whose JSON must fit one action's schema (free-text ReAct loops on small models; constrained tool
calls complete bookings).

One `Llama` instance, loaded lazily once, runs on one dedicated worker thread, so calls queue
instead of racing and the event loop never blocks. A RAM state cache keyed by token prefixes lets
a session's next step reuse its already-evaluated prompt (system prompt, earlier steps).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import LLMBadResponse, LLMUnavailable
from ..worker import Worker
from .base import ActionCall, LLMReply, LLMRequest
from .messages import action_union_schema, compact, current_task, to_chat_messages
from .model_files import ModelFileError, assemble

log = logging.getLogger(__name__)

ASK, FINAL = "prompt_user", "final_answer"
CALL_FORMAT = (
    "\n\nCall an action by replying with a JSON object within <tool_call></tool_call> tags:\n"
    '<tool_call>\n{"name": <action-name>, "arguments": <args-json-object>}\n</tool_call>'
)
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


class LocalLLM:
    name = "local"

    def __init__(self, model_path: Path | None, cache_dir: Path, n_ctx: int = 4096,
                 threads: int | None = None, max_tokens: int = 200,
                 state_cache_bytes: int = 1 << 30, max_actions: int = 2) -> None:
        self._model_path = model_path
        self._cache_dir = cache_dir
        self._n_ctx = n_ctx
        self._threads = threads or os.cpu_count() or 2
        self._max_tokens = max_tokens
        self._state_cache_bytes = state_cache_bytes
        self._max_actions = max_actions
        self._worker = Worker("llama")
        self._llama: Any = None
        self._load_error: str | None = None
        self._load_lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._chat_formatter: Any = None
        self.stats: dict[str, float] = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                        "seconds": 0.0}

    # -- loading -------------------------------------------------------------------------------

    def _load(self) -> Any:
        with self._load_lock:
            if self._llama is not None:
                return self._llama
            if self._load_error is not None:
                raise LLMUnavailable(self._load_error)
            try:
                from llama_cpp import Llama, LlamaRAMCache
            except ImportError:
                self._load_error = ("llama-cpp-python is not installed; install the "
                                    "requirements or use another LLM_BACKEND.")
                raise LLMUnavailable(self._load_error) from None
            try:
                path = self._model_path or assemble(self._cache_dir)
                if not Path(path).is_file():
                    raise ModelFileError(f"LOCAL_MODEL_PATH {path} is not a file.")
                started = time.perf_counter()
                llama = Llama(model_path=str(path), n_ctx=self._n_ctx, n_threads=self._threads,
                              n_threads_batch=self._threads, verbose=False)
                llama.set_cache(LlamaRAMCache(capacity_bytes=self._state_cache_bytes))
                log.info("local model %s loaded in %.1f s", Path(path).name,
                         time.perf_counter() - started)
            except ModelFileError as exc:
                self._load_error = str(exc)
                raise LLMUnavailable(self._load_error) from None
            except (OSError, ValueError) as exc:
                self._load_error = f"The local model could not be loaded: {exc}"
                raise LLMUnavailable(self._load_error) from None
            self._llama = llama
            return llama

    # -- protocol ------------------------------------------------------------------------------

    async def check(self) -> None:
        if self._load_error is not None:
            raise LLMUnavailable(self._load_error)
        if self._llama is None:
            await self._worker.run(self._load)

    async def complete(self, request: LLMRequest) -> LLMReply:
        return await self._worker.run(self._complete, request)

    async def close(self) -> None:
        self._worker.close()

    # -- the work, on the llama thread ---------------------------------------------------------

    def _grammar(self, actions: list[dict[str, Any]]) -> Any:
        """1..max_actions `<tool_call>` blocks, each holding JSON that fits one action's schema.
        Built once per action set."""
        from llama_cpp import LlamaGrammar
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        key = json.dumps(actions, sort_keys=True)
        if key not in self._grammars:
            rules = json_schema_to_gbnf(json.dumps(action_union_schema(actions)))
            rules = rules.replace("root ::=", "call-json ::=", 1)
            more = ' ("\\n" call)?' * (self._max_actions - 1)
            head = (f"root ::= call{more}\n"
                    'call ::= "<tool_call>\\n" call-json "\\n</tool_call>"\n')
            self._grammars[key] = LlamaGrammar.from_string(head + rules, verbose=False)
        return self._grammars[key]

    def _json_grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def _known_fields(self, llama: Any, system: str, events: list[dict[str, Any]],
                      fields: list[str]) -> dict[str, Any]:
        """Ask the model which result fields the conversation already gives. Small models ask
        again for what the user said; their own extraction, done as a separate question, is
        reliable and lets us refuse a question whose answer is already known."""
        note = {"role": "user", "content": (
            "(Not from the user: list each field as the user said it or an action returned "
            "it in this booking, as JSON. Use null for anything not said: do not guess.)")}
        messages = to_chat_messages(system, compact(events), "native", arguments_as="object")
        prompt = self._formatter(llama)(messages=[*messages, note]).prompt
        nullable = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]}
        schema = {"type": "object", "required": fields,
                  "properties": {f: nullable for f in fields}}
        out = llama.create_completion(prompt, temperature=0.0, max_tokens=160,
                                      grammar=self._json_grammar(schema))
        self._count(out)
        try:
            return json.loads(out["choices"][0].get("text") or "{}")
        except json.JSONDecodeError:
            return {}

    def _count(self, response: dict[str, Any]) -> None:
        usage = response.get("usage", {})
        self.stats["calls"] += 1
        self.stats["prompt_tokens"] += usage.get("prompt_tokens", 0)
        self.stats["completion_tokens"] += usage.get("completion_tokens", 0)

    def _formatter(self, llama: Any) -> Any:
        if self._chat_formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise LLMUnavailable("The local model has no chat template; use a chat GGUF.")
            eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
            self._chat_formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token="")
        return self._chat_formatter

    def _fit(self, llama: Any, system: str, events: list[dict[str, Any]],
             tools: list[dict[str, Any]]) -> str:
        """The rendered prompt within the context budget: drop the oldest turns (never the
        system prompt, never the current turn) until it leaves room for the answer."""
        budget = self._n_ctx - self._max_tokens - 16
        events = compact(events)
        while True:
            messages = to_chat_messages(system, events, "native", arguments_as="object")
            prompt = self._formatter(llama)(messages=messages, tools=tools or None).prompt
            size = len(llama.tokenize(prompt.encode(), add_bos=False, special=True))
            starts = [i for i, e in enumerate(events) if e.get("role") == "user"]
            if size <= budget or len(starts) <= 1:
                return prompt
            events = events[starts[1]:]

    def _complete(self, request: LLMRequest) -> LLMReply:
        llama = self._load()
        # The system prompt already lists the actions compactly; the template's own tool
        # section would repeat them as full JSON schemas (3x the prompt, 3x the latency).
        system = request.system_prompt + CALL_FORMAT
        prompt = self._fit(llama, system, request.messages, [])
        log.debug("local model prompt: %d characters", len(prompt))
        started = time.perf_counter()
        try:
            text = self._generate(llama, prompt, request.actions)
            calls = parse_tool_calls(text)
            final = next((a for a in request.actions if a["name"] == FINAL), None)
            if final is not None and any(c.name == ASK for c in calls):
                fields = list(final["parameters"].get("properties", {}))
                known = self._known_fields(llama, system, request.messages, fields)
                grounded = grounded_fields(known, request.messages)
                if fields and all(f in grounded for f in fields):
                    # It asked although it can name every field: have it give the result.
                    log.info("the model asked for a field it already knows; finishing instead")
                    text = self._generate(llama, prompt, [final])
                    calls = parse_tool_calls(text)
        except ValueError as exc:  # e.g. the prompt exceeds the context
            raise LLMBadResponse(f"The local model could not answer: {exc}") from None
        finally:
            self.stats["seconds"] += time.perf_counter() - started
        return LLMReply(actions=calls, text=text)

    def _generate(self, llama: Any, prompt: str, actions: list[dict[str, Any]]) -> str:
        response = llama.create_completion(prompt, temperature=0.0, max_tokens=self._max_tokens,
                                           grammar=self._grammar(actions))
        self._count(response)
        return response["choices"][0].get("text") or ""


def grounded_fields(known: dict[str, Any], events: list[dict[str, Any]]) -> set[str]:
    """The fields whose value appears in what the user said or an action returned in the
    current task: a small model fills gaps with guesses, and a guess must not end a booking."""
    start = current_task(events)
    corpus = " ".join(
        str(e.get("content", "")) for e in events[start:] if e.get("role") in ("user", "tool")
    ).lower()
    return {field for field, value in known.items()
            if isinstance(value, str) and value.strip() and value.strip().lower() in corpus}


def parse_tool_calls(text: str) -> list[ActionCall]:
    """Actions from `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks; a block
    that is not such JSON (cut off at the token limit) is dropped, and no action at all makes
    the loop tell the model to answer with one."""
    calls = []
    for block in _TOOL_CALL.findall(text):
        try:
            item = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            arguments = item.get("arguments", {})
            calls.append(ActionCall(item["name"], arguments if isinstance(arguments, dict)
                                    else json.dumps(arguments)))
    return calls
