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

from .agent.actions import ActionRegistry
from .agent.definition import AgentDefinition, ending_actions, load_definition
from .agent.loop import AgentLoop, LoopLimits
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
from .stores.base import SessionStore
from .stores.factory import build_session_store
from .tools.cab import build_cab_actions
from .tools.places.base import PlacesProvider
from .tools.places.factory import build_places_provider, place_vocabulary
from .tools.users import UserDirectory


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
    speech: SpeechService
    metrics: Metrics
    limiter: RateLimiter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

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


def resolve_timezone(name: str | None) -> ZoneInfo:
    if name:
        return ZoneInfo(name)
    local = tzlocal.get_localzone_name()
    return ZoneInfo(local) if local else ZoneInfo("UTC")


def build_services(settings: Settings, overrides: Overrides | None = None) -> Services:
    overrides = overrides or Overrides()
    clock = overrides.clock or SystemClock()
    tz = resolve_timezone(settings.timezone)
    definition = load_definition(settings.agent_file)
    places = overrides.places or build_places_provider(settings)
    users = UserDirectory(settings.users_file)
    available = ActionRegistry([*build_cab_actions(places, users, tz), *ending_actions(definition)])
    registry = available.select(definition.actions)
    store = overrides.store or build_session_store(settings.session_store, clock,
                                                   settings.turn_lease_seconds)
    llm = overrides.llm or build_llm_client(settings)

    system_prompt = SystemPrompt(definition, registry, tz)
    limits = LoopLimits(settings.max_iterations, settings.llm_timeout_seconds,
                        settings.action_timeout_seconds)
    metrics = Metrics()
    agent = AgentLoop(llm, registry, limits, system_prompt, metrics)
    policy = SessionPolicy(settings.session_ttl_seconds, settings.session_max_messages,
                           settings.turn_wait_seconds)
    manager = SessionManager(store, agent, clock, policy, metrics)
    stt = overrides.stt or build_speech_to_text(settings, place_vocabulary(places))
    speech = SpeechService(stt,
                           overrides.tts or build_text_to_speech(settings),
                           settings.max_audio_seconds, metrics)
    limiter = RateLimiter(settings.rate_limit, settings.session_store) \
        if settings.rate_limit else None
    return Services(settings, clock, tz, store, llm, places, definition, registry, manager,
                    speech, metrics, limiter)
