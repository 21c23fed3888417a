"""The service graph for one app instance, built in the lifespan and closed with it.

Tests inject replacements (an LLM client, a clock, a place search) through `Overrides`; the
rest comes from configuration through the backend factories.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import tzlocal

from . import __version__
from .agent.actions import ActionRegistry
from .agent.catalog import AgentCatalog, HostedAgent, agent_files, agent_registry, load_agent_file
from .agent.custom_actions import AgentFileError
from .agent.definition import AgentDefinition
from .agent.form import FormStrategy
from .agent.loop import AgentLoop, LoopLimits
from .agent.strategy import AgentStrategy
from .clock import Clock, SystemClock
from .config import Settings
from .delivery.sender import WebhookSender
from .llm.base import LLMClient
from .llm.factory import build_llm_client
from .llm.model_files import MODEL_FILE
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
from .tools.library import library_actions
from .tools.places.base import PlacesProvider
from .tools.places.factory import build_places_provider, place_vocabulary
from .tools.users import UserDirectory
from .traced import TracedAgent, TracedLLM, TracedStore, traced_actions
from .tracing import Tracing

# With webhooks, how long Redis keeps an expired session for the sweep to report whose it was
# (the sweep runs at least every minute; this covers every replica being down a while).
KEEP_EXPIRED_SECONDS = 600.0


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
    places: PlacesProvider | None  # only when an agent searches places
    agents: AgentCatalog
    manager: SessionManager
    speech: SpeechService
    metrics: Metrics
    limiter: RateLimiter | None = None
    tracing: Tracing | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    warm_up: asyncio.Task[None] | None = None  # the strategy's `prepare`, started at start-up
    vad: SileroModel | None = None
    a2a: Any = None  # the A2A front (api/a2a.py), built on its first request
    webhooks: WebhookSender | None = None  # with WEBHOOK_URL: its task runs in the lifespan

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
        if self.places is not None:
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
            MODEL_FILE.removesuffix(".gguf")
    return llm.name


def build_strategy(settings: Settings, llm: LLMClient, definition: AgentDefinition,
                   registry: ActionRegistry, tz: ZoneInfo, metrics: Metrics) -> AgentStrategy:
    limits = LoopLimits(settings.max_iterations, settings.llm_timeout_seconds,
                        settings.action_timeout_seconds)
    if strategy_name(settings.agent_strategy, llm, definition) == "form":
        return FormStrategy(llm, registry, definition, limits, tz, metrics,
                            warm_up=llm.name == "local")
    return AgentLoop(llm, registry, limits, SystemPrompt(definition, registry, tz), metrics,
                     definition.fallback_question)


async def prepare_all(agents: AgentCatalog) -> None:
    """Each agent's `prepare` in turn (the default agent's last, so its prompt is the one the
    embedded model holds when the first user comes)."""
    ordered = sorted(agents, key=lambda agent: agent.name == agents.default)
    for agent in ordered:
        if agent.strategy.needs_warm_up:
            await agent.strategy.prepare()


def build_services(settings: Settings, overrides: Overrides | None = None) -> Services:
    overrides = overrides or Overrides()
    clock = overrides.clock or SystemClock()
    tz = resolve_timezone(settings.timezone)
    definitions = [load_agent_file(path)
                   for path in agent_files(settings.agents, settings.agent_file)]
    places: PlacesProvider | None = overrides.places
    if places is None and any("search_places" in d.action_names for d in definitions):
        places = build_places_provider(settings)
    users: list[UserDirectory] = []

    def library(names: set[str]) -> list:
        def the_places() -> PlacesProvider:
            assert places is not None
            return places

        def the_users() -> UserDirectory:
            if not users:
                users.append(UserDirectory(settings.users_file))
            return users[0]

        return library_actions(names, the_places, the_users, tz)

    webhooks = bool(settings.webhook_url)
    store = overrides.store or build_session_store(
        settings.session_store, clock, settings.turn_lease_seconds,
        KEEP_EXPIRED_SECONDS if webhooks else 0.0)
    llm = overrides.llm or build_llm_client(settings)
    tracing = Tracing(__version__)
    if tracing.tracer is not None:  # spans around each part only when tracing is on
        store = TracedStore(store, tracing.tracer, settings.session_store.split(":")[0])
        llm = TracedLLM(llm, tracing.tracer, model_name(settings, llm))

    metrics = Metrics()
    hosted = []
    for definition in definitions:
        registry = agent_registry(definition, library)
        if tracing.tracer is not None:
            registry = traced_actions(registry, tracing.tracer)
        strategy: AgentStrategy = build_strategy(settings, llm, definition, registry, tz,
                                                 metrics)
        if tracing.tracer is not None:
            strategy = TracedAgent(strategy, tracing.tracer)
        hosted.append(HostedAgent(definition, registry, strategy))
    agents = AgentCatalog(hosted, settings.default_agent)
    policy = SessionPolicy(settings.session_ttl_seconds, settings.session_max_messages,
                           settings.turn_wait_seconds, settings.turn_timeout_seconds)
    sender = None
    if settings.webhook_url and settings.webhook_secret:
        sender = WebhookSender(store, settings.webhook_url,
                               settings.webhook_secret.get_secret_value(), metrics)
    manager = SessionManager(store, agents, clock, policy, metrics,
                             sender.notify if sender is not None else None)
    vocabulary = agents.speech_hints()
    if agents.uses("search_places"):
        vocabulary += place_vocabulary(places)
    stt = overrides.stt or build_speech_to_text(settings, vocabulary)
    speech = SpeechService(stt,
                           overrides.tts or build_text_to_speech(settings),
                           settings.max_audio_seconds, metrics)
    limiter = RateLimiter(settings.rate_limit, settings.session_store) \
        if settings.rate_limit else None
    return Services(settings, clock, tz, store, llm, places, agents, manager, speech, metrics,
                    limiter, tracing, webhooks=sender)
