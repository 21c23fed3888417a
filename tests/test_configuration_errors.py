"""Every factory fails the same way: a backend chosen without what it needs is a
`ConfigurationError` and the service does not start (saying which setting to fix); a configured
backend that cannot serve leaves the service up with `/ready` saying what fails."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent_session.config import Settings
from agent_session.errors import ConfigurationError
from agent_session.llm.factory import build_llm_client
from agent_session.speech.factory import build_speech_to_text, build_text_to_speech
from agent_session.stores.factory import build_session_store
from agent_session.tools.places.factory import build_places_provider
from agent_session.tracing import Tracing

from .conftest import make_settings, running
from .fakes.clock import FakeClock
from .fakes.server import free_port


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("build, setting", [
    (lambda: build_llm_client(settings(llm_backend="watsonx")), "WX_API_KEY"),
    (lambda: build_llm_client(settings(llm_backend="openai")), "OPENAI_BASE_URL"),
    (lambda: build_speech_to_text(settings(stt_backend="watson"), []), "STT_API_KEY"),
    (lambda: build_text_to_speech(settings(tts_backend="watson")), "TTS_API_KEY"),
    (lambda: build_places_provider(settings(places_backend="google")), "GOOGLE_MAPS_API_KEY"),
    (lambda: build_session_store("postgres://x", FakeClock()), "SESSION_STORE"),
    (lambda: Tracing("1", {"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}),
     "OTEL_EXPORTER_OTLP_PROTOCOL"),
])
def test_a_backend_chosen_without_its_settings_is_a_configuration_error(build, setting):
    with pytest.raises(ConfigurationError, match=setting):
        build()


def test_the_service_refuses_to_start_and_names_the_setting():
    done = subprocess.run([sys.executable, "-m", "agent_session"], capture_output=True,
                          text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LOG_FILE": "", "PORT": str(free_port()),
                               "LLM_BACKEND": "watsonx", "HOME": "/tmp"})
    assert done.returncode != 0
    assert "cannot start: LLM_BACKEND=watsonx needs WX_API_KEY and WX_URL." in done.stderr


async def test_a_configured_backend_that_cannot_serve_degrades_ready():
    app_settings = make_settings(llm_backend="openai", openai_model="m",
                                 openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
                                 llm_timeout_seconds=2, openai_max_retries=0)
    from agent_session.main import create_app

    async with running(create_app(app_settings)) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["llm"] != "ok"
        assert (await client.get("/health")).status_code == 200


def test_settings_that_cannot_work_together_refuse_to_start():
    import pytest
    from pydantic import ValidationError

    from agent_session.config import Settings

    with pytest.raises(ValidationError, match="SESSION_TTL_SECONDS .* TURN_TIMEOUT_SECONDS"):
        Settings(_env_file=None, session_ttl_seconds=20, turn_timeout_seconds=25)
    with pytest.raises(ValidationError, match="DEFAULT_AGENT=tables"):
        Settings(_env_file=None, default_agent="tables")
    assert Settings(_env_file=None).turn_timeout_seconds == 25  # the defaults work together
