"""The backends every non-store conformance suite runs against, built the way the service builds
them (its factories, from settings), each remote one against its fake on 127.0.0.1 so the real
client code runs: LLM clients, speech-to-text, text-to-speech and place search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agent_session.config import Settings
from agent_session.llm.base import LLMClient
from agent_session.llm.factory import build_llm_client
from agent_session.speech.factory import build_speech_to_text, build_text_to_speech
from agent_session.tools.places.factory import build_places_provider, place_vocabulary

from ..fakes import google_places
from ..fakes.openai_server import FakeOpenAI, json_answer
from ..fakes.scripted_llm import ScriptedLLM, call
from ..fakes.server import serve
from ..fakes.watson_speech import FakeWatsonSpeech
from ..fakes.watsonx import FakeWatsonx, tool_calls


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, log_file="", **values)


@pytest.fixture(scope="session")
def watsonx_fake(tls) -> Iterator[tuple[FakeWatsonx, str]]:
    fake = FakeWatsonx()
    with serve(fake.app(), *tls) as url:
        yield fake, url


@pytest.fixture(scope="session")
def openai_fake(tls) -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(api_key="sk-conformance")
    with serve(fake.app(), *tls) as url:
        yield fake, url


@pytest.fixture(scope="session")
def speech_fake(tls) -> Iterator[tuple[FakeWatsonSpeech, str]]:
    fake = FakeWatsonSpeech()
    with serve(fake.app(), *tls) as url:
        yield fake, url


@dataclass
class ModelUnderTest:
    """A client and how to make its next answer: `ask(question)` an action call of
    `prompt_user`, `fill(values)` a JSON answer. A real model (`local`) answers itself:
    both are no-ops, and the tests' prompts tell it what to answer."""

    client: LLMClient
    ask: Callable[[str], None]
    fill: Callable[[dict[str, Any]], None]
    real: bool = False
    received: Callable[[], str] | None = None
    """All the text the backend received in its last call (None: not observable)."""


def _nothing(_: Any) -> None:
    return None


@pytest.fixture(params=["watsonx", "openai", "local", "scripted"])
async def model(request, tls) -> AsyncIterator[ModelUnderTest]:
    kind = request.param
    if kind == "watsonx":
        fake, url = request.getfixturevalue("watsonx_fake")
        fake.answers.clear()
        client = build_llm_client(settings(
            llm_backend="watsonx", wx_api_key=fake.api_key, wx_url=url,
            wx_auth_url=f"{url}/identity/token", wx_project_id=fake.project_id,
            wx_verify=str(tls[0]), llm_timeout_seconds=10))
        under = ModelUnderTest(
            client, lambda q: fake.script(tool_calls(("prompt_user", {"question": q}))),
            lambda values: fake.script(json_answer(values)),
            received=lambda: json.dumps(fake.chats[-1]["body"]))
    elif kind == "openai":
        fake, url = request.getfixturevalue("openai_fake")
        fake.answers.clear()
        client = build_llm_client(settings(
            llm_backend="openai", openai_base_url=f"{url}/v1", openai_api_key="sk-conformance",
            openai_model="test-model", openai_verify=str(tls[0]), llm_timeout_seconds=10))
        under = ModelUnderTest(
            client, lambda q: fake.script(tool_calls(("prompt_user", {"question": q}))),
            lambda values: fake.script(json_answer(values)),
            received=lambda: json.dumps(fake.requests[-1]))
    elif kind == "local":
        under = ModelUnderTest(request.getfixturevalue("local_model"), _nothing, _nothing,
                               real=True)
    else:
        scripted = ScriptedLLM()
        under = ModelUnderTest(scripted,
                               lambda q: scripted.extend([[call("prompt_user", question=q)]]),
                               lambda values: scripted.extend([values]),
                               received=lambda: repr(scripted.requests[-1]))
    try:
        yield under
    finally:
        if kind != "local":  # the real model is loaded once for the session
            await under.client.close()


@pytest.fixture(scope="session")
def local_model() -> Iterator[LLMClient]:
    """The bundled model, loaded once (about 2 s) and closed at the end of the run."""
    client = build_llm_client(settings(llm_backend="local", llm_timeout_seconds=120))
    yield client
    asyncio.run(client.close())


@pytest.fixture(params=["local", "watson"])
async def stt(request, tls) -> AsyncIterator[tuple[Any, str | None]]:
    """(engine, what the fake hears, or None when the engine really listens)."""
    if request.param == "local":
        engine = build_speech_to_text(settings(stt_backend="local"), place_vocabulary())
        heard = None
    else:
        fake, url = request.getfixturevalue("speech_fake")
        engine = build_speech_to_text(settings(stt_backend="watson", stt_api_key=fake.api_key,
                                               stt_url=url, stt_auth_url=f"{url}/identity/token",
                                               stt_verify=str(tls[0])), place_vocabulary())
        heard = fake.transcript
    yield engine, heard
    await engine.close()


@pytest.fixture(params=["local", "watson"])
async def tts(request, tls) -> AsyncIterator[Any]:
    if request.param == "local":
        engine = build_text_to_speech(settings(tts_backend="local"))
    else:
        fake, url = request.getfixturevalue("speech_fake")
        engine = build_text_to_speech(settings(tts_backend="watson", tts_api_key=fake.api_key,
                                               tts_url=url, tts_auth_url=f"{url}/identity/token",
                                               tts_verify=str(tls[0])))
    yield engine
    await engine.close()


@pytest.fixture(params=["offline", "google"])
async def places(request) -> AsyncIterator[Any]:
    if request.param == "offline":
        provider = build_places_provider(settings(places_backend="offline"))
        yield provider
        await provider.close()
        return
    with serve(google_places.make_app("g-key", [])) as url:
        provider = build_places_provider(settings(places_backend="google",
                                                  google_maps_api_key="g-key",
                                                  google_places_url=url))
        yield provider
        await provider.close()
