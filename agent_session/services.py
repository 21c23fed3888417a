"""The service graph for one app instance, built in the lifespan and closed with it.

Tests inject replacements (an LLM client, a clock, a place search) through `Overrides`; the
rest comes from configuration through the backend factories.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import tzlocal

from . import __version__
from .agent.actions import ActionRegistry
from .agent.custom_actions import AgentFileError, build_custom_actions
from .agent.definition import AgentDefinition, ending_actions, load_definition
from .agent.form import FormStrategy
from .agent.loop import AgentLoop, LoopLimits
from .agent.strategy import AgentStrategy
from .clock import Clock, SystemClock
from .config import Settings
from .llm.base import LLMClient
from .llm.factory import build_llm_client
from .metrics import Metrics
from .prompts import SystemPrompt
from .ratelimit import RateLimiter
from .session_manager import SessionManager, SessionPolicy
from .speech.factory import build_speech_to_text, build_text_to_speech
from .speech.service import SpeechService
from .speech.stt.base import SpeechToText
from .speech.tts.base import TextToSpeech
from .speech.vad import SileroModel
from .stores.base import SessionStore
from .stores.factory import build_session_store
from .tools.cab import build_cab_actions
from .tools.places.base import PlacesProvider
from .tools.places.factory import build_places_provider, place_vocabulary
from .tools.users import UserDirectory
from .traced import TracedAgent, TracedLLM, TracedStore, traced_actions
from .tracing import Tracing


@dataclass
class Overrides:
    llm: LLMClient | None = None
    clock: Clock | None = None
    places: PlacesProvider | None = None
    store: SessionStore | None = None
    stt: SpeechToText | None = None
    tts: TextToSpeech | None = None


@dataclass
class Services:
    settings: Settings
    clock: Clock
    timezone: ZoneInfo
    store: SessionStore
    llm: LLMClient
    places: PlacesProvider
    definition: AgentDefinition
    registry: ActionRegistry
    manager: SessionManager
    agent: AgentStrategy
    speech: SpeechService
    metrics: Metrics
    limiter: RateLimiter | None = None
    tracing: Tracing | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    warm_up: asyncio.Task[None] | None = None  # the strategy's `prepare`, started at start-up
    vad: SileroModel | None = None

    def vad_model(self) -> SileroModel:
        """The voice-activity model every voice socket shares, loaded on first use."""
        if self.vad is None:
            self.vad = SileroModel()
        return self.vad

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.llm.close()
        await self.speech.stt.close()
        await self.speech.tts.close()
        await self.places.close()
        await self.store.close()
        if self.tracing is not None:
            self.tracing.close()


def resolve_timezone(name: str | None) -> ZoneInfo:
    if name:
        return ZoneInfo(name)
    local = tzlocal.get_localzone_name()
    return ZoneInfo(local) if local else ZoneInfo("UTC")


def strategy_name(setting: str, llm: LLMClient, definition: AgentDefinition) -> str:
    """`auto`: slot filling on the embedded model, whose 1.5B parameters cannot plan multi-step
    tool use reliably (when the agent declares slots); the action loop on every remote model."""
    if setting == "form" and definition.form is None:
        raise AgentFileError("AGENT_STRATEGY=form needs a `form` section (the slots) in the "
                             "agent file.")
    if setting != "auto":
        return setting
    return "form" if llm.name == "local" and definition.form is not None else "react"


def model_name(settings: Settings, llm: LLMClient) -> str:
    """The model a backend runs, as traces name it."""
    if llm.name == "watsonx":
        return settings.wx_model_id
    if llm.name == "openai":
        return settings.openai_model or "unknown"
    if llm.name == "local":
        return settings.local_model_path.name if settings.local_model_path else \
            "qwen2.5-coder-1.5b-instruct-q4_k_m"
    return llm.name


def build_agent(settings: Settings, llm: LLMClient, definition: AgentDefinition,
                registry: ActionRegistry, tz: ZoneInfo, metrics: Metrics) -> AgentStrategy:
    limits = LoopLimits(settings.max_iterations, settings.llm_timeout_seconds,
                        settings.action_timeout_seconds)
    if strategy_name(settings.agent_strategy, llm, definition) == "form":
        assert definition.form is not None
        return FormStrategy(llm, registry, definition.form, definition.result_schema, limits,
                            metrics, definition.fallback_question, warm_up=llm.name == "local")
    return AgentLoop(llm, registry, limits, SystemPrompt(definition, registry, tz), metrics,
                     definition.fallback_question)


def build_services(settings: Settings, overrides: Overrides | None = None) -> Services:
    overrides = overrides or Overrides()
    clock = overrides.clock or SystemClock()
    tz = resolve_timezone(settings.timezone)
    definition = load_definition(settings.agent_file)
    places = overrides.places or build_places_provider(settings)
    users = UserDirectory(settings.users_file)
    available = ActionRegistry([*build_cab_actions(places, users, tz),
                                *ending_actions(definition), *build_custom_actions(definition)])
    registry = available.select(definition.action_names)
    store = overrides.store or build_session_store(settings.session_store, clock,
                                                   settings.turn_lease_seconds)
    llm = overrides.llm or build_llm_client(settings)
    tracing = Tracing(__version__)
    if tracing.tracer is not None:  # spans around each part only when tracing is on
        registry = traced_actions(registry, tracing.tracer)
        store = TracedStore(store, tracing.tracer, settings.session_store.split(":")[0])
        llm = TracedLLM(llm, tracing.tracer, model_name(settings, llm))

    metrics = Metrics()
    agent = build_agent(settings, llm, definition, registry, tz, metrics)
    if tracing.tracer is not None:
        agent = TracedAgent(agent, tracing.tracer)
    policy = SessionPolicy(settings.session_ttl_seconds, settings.session_max_messages,
                           settings.turn_wait_seconds, settings.turn_timeout_seconds)
    manager = SessionManager(store, agent, clock, policy, metrics)
    stt = overrides.stt or build_speech_to_text(settings, place_vocabulary(places))
    speech = SpeechService(stt,
                           overrides.tts or build_text_to_speech(settings),
                           settings.max_audio_seconds, metrics)
    limiter = RateLimiter(settings.rate_limit, settings.session_store) \
        if settings.rate_limit else None
    return Services(settings, clock, tz, store, llm, places, definition, registry, manager,
                    agent, speech, metrics, limiter, tracing)
