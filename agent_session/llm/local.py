"""The embedded LLM: a GGUF model run in-process by llama-cpp-python.

The prompt is the model's own chat template with the actions passed as tools, and the output is
constrained by a grammar to the model's trained tool-call format, `<tool_call>{json}</tool_call>`,
whose JSON must fit one action's schema (free-text ReAct loops on small models; constrained tool
calls complete bookings).

One `Llama` instance, loaded lazily once, runs on one dedicated worker thread, so calls queue
instead of racing and the event loop never blocks; `ModelQueue` stops a call whose caller left
and refuses one that could not be served in time. A call reuses whatever prefix of its prompt
llama.cpp's context already holds: a react turn's next step its earlier steps, a form turn the
fixed prefix (instructions and examples) that every form prompt starts with.

llama-cpp-python's RAM state cache (which would also restore another session's prefix) is off:
it bounds only the llama.cpp state it keeps, not the logits array copied into every entry
(311 MB for this model's vocabulary), so the process grew by 0.3 GB per model call and was
killed for memory after about 80 react calls. `state_cache_bytes` turns it on.

No policy lives here: which question to ask or when to finish is the strategy's business.
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
from ..events import Event, UserMessage
from ..worker import Worker
from .base import ActionCall, JSONRequest, LLMReply, LLMRequest
from .messages import action_union_schema, compact, grammar_schema, json_object, to_chat_messages
from .model_files import ModelFileError, assemble
from .model_queue import ModelQueue

log = logging.getLogger(__name__)

CALL_FORMAT = (
    "\n\nCall an action by replying with a JSON object within <tool_call></tool_call> tags:\n"
    '<tool_call>\n{"name": <action-name>, "arguments": <args-json-object>}\n</tool_call>'
)
PREFILL_CHUNK = 64  # prompt tokens between two checks of a call's stop flag (about 1 s)
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


class Stopped(Exception):
    """The call's caller left while its prompt was being read."""


class LocalLLM:
    name = "local"

    def __init__(self, model_path: Path | None, cache_dir: Path, n_ctx: int = 4096,
                 threads: int | None = None, max_tokens: int = 200,
                 state_cache_bytes: int = 0, max_actions: int = 2,
                 timeout: float = 30.0) -> None:
        self._model_path = model_path
        self._cache_dir = cache_dir
        self._n_ctx = n_ctx
        self._threads = threads or os.cpu_count() or 2
        self._max_tokens = max_tokens
        self._state_cache_bytes = state_cache_bytes
        self._max_actions = max_actions
        self._worker = Worker("llama")
        self.queue = ModelQueue(self._worker, timeout)
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
            log.info("loading the embedded model (the first start assembles it, about 5 s)")
            try:
                path = self._model_path or assemble(self._cache_dir)
                if not Path(path).is_file():
                    raise ModelFileError(f"LOCAL_MODEL_PATH {path} is not a file.")
                started = time.perf_counter()
                llama = Llama(model_path=str(path), n_ctx=self._n_ctx, n_threads=self._threads,
                              n_threads_batch=self._threads, verbose=False)
                if self._state_cache_bytes:  # off by default: see the module's docstring
                    llama.set_cache(LlamaRAMCache(capacity_bytes=self._state_cache_bytes))
                log.info("embedded model %s ready: loaded in %.1f s", Path(path).name,
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
        return await self.queue.run(lambda stop: self._complete(request, stop))

    async def complete_json(self, request: JSONRequest) -> dict[str, Any]:
        text = await self.queue.run(lambda stop: self._complete_json(request, stop))
        return json_object(text, "The local model")

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

        # Property order is the order the grammar lets the model write them in: keep it.
        key = json.dumps(schema)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

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

    def _fit(self, llama: Any, system: str, events: list[Event],
             tools: list[dict[str, Any]]) -> str:
        """The rendered prompt within the context budget: drop the oldest turns (never the
        system prompt, never the current turn) until it leaves room for the answer."""
        budget = self._n_ctx - self._max_tokens - 16
        events = compact(events)
        while True:
            messages = to_chat_messages(system, events, "native", arguments_as="object")
            prompt = self._formatter(llama)(messages=messages, tools=tools or None).prompt
            size = len(llama.tokenize(prompt.encode(), add_bos=False, special=True))
            starts = [i for i, e in enumerate(events) if isinstance(e, UserMessage)]
            if size <= budget or len(starts) <= 1:
                return prompt
            events = events[starts[1]:]

    def _complete(self, request: LLMRequest, stop: threading.Event) -> LLMReply:
        llama = self._load()
        # The system prompt already lists the actions compactly; the template's own tool
        # section would repeat them as full JSON schemas (3x the prompt, 3x the latency).
        system = request.system_prompt + CALL_FORMAT
        prompt = self._fit(llama, system, request.messages, [])
        before = dict(self.stats)  # calls run one at a time on the model's thread
        text = self._generate(llama, prompt, self._grammar(request.actions), self._max_tokens,
                              stop)
        return LLMReply(actions=parse_tool_calls(text), text=text,
                        prompt_tokens=int(self.stats["prompt_tokens"] - before["prompt_tokens"]),
                        completion_tokens=int(self.stats["completion_tokens"]
                                              - before["completion_tokens"]))

    def _complete_json(self, request: JSONRequest, stop: threading.Event) -> str:
        llama = self._load()
        prompt = self._formatter(llama)(messages=request.messages).prompt
        grammar = self._json_grammar(grammar_schema(request.schema))
        return self._generate(llama, prompt, grammar, request.max_tokens, stop)

    def _generate(self, llama: Any, prompt: str, grammar: Any, max_tokens: int,
                  stop: threading.Event) -> str:
        from llama_cpp import StoppingCriteriaList

        started = time.perf_counter()
        try:
            tokens = llama.tokenize(prompt.encode(), special=True)
            self._prefill(llama, tokens, stop)
            response = llama.create_completion(
                tokens, temperature=0.0, max_tokens=max_tokens, grammar=grammar,
                stopping_criteria=StoppingCriteriaList([lambda _ids, _logits: stop.is_set()]))
        except ValueError as exc:  # e.g. the prompt exceeds the context
            raise LLMBadResponse(f"The local model could not answer: {exc}") from None
        finally:
            self.stats["seconds"] += time.perf_counter() - started
        self._count(response)
        return response["choices"][0].get("text") or ""

    @staticmethod
    def _prefill(llama: Any, tokens: list[int], stop: threading.Event) -> None:
        """Evaluate the prompt but its last token in chunks, checking `stop` between them, so
        an abandoned call also stops while reading a long prompt (a cold react prompt takes
        20 s); `create_completion` then finds it evaluated and goes on from there. Reuses what
        llama.cpp holds, or the longest cached state, as `create_completion` itself would."""
        held = list(llama.eval_tokens)
        common = llama.longest_token_prefix(held, tokens)
        if llama.cache is not None:
            try:
                cached = llama.cache[tokens]
            except KeyError:
                cached = None
            if cached is not None and llama.longest_token_prefix(
                    cached.input_ids.tolist(), tokens) > common:
                llama.load_state(cached)
                common = llama.longest_token_prefix(list(llama.eval_tokens), tokens)
        # Llama.eval appends at `n_tokens` and drops whatever the context held beyond it.
        llama.n_tokens = min(common, len(tokens) - 1)
        for start in range(llama.n_tokens, len(tokens) - 1, PREFILL_CHUNK):
            if stop.is_set():
                raise Stopped
            llama.eval(tokens[start:min(start + PREFILL_CHUNK, len(tokens) - 1)])


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
