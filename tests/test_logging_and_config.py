"""Configuration from the environment and `.env`; logs carry ids and never a secret."""

from __future__ import annotations

import logging

from agent_session.config import Settings
from agent_session.main import create_app
from agent_session.services import Overrides

from .conftest import make_settings, running
from .fakes.scripted_llm import ScriptedLLM, call


def test_env_file_and_environment(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("SESSION_TTL_SECONDS=99\nAPI_KEYS=a, b ,\nCORS_ORIGINS=http://x.test\n"
                   "WX_API_KEY=secret-wx\n")
    monkeypatch.setenv("MAX_ITERATIONS", "7")
    settings = Settings(_env_file=env)
    assert settings.session_ttl_seconds == 99
    assert settings.api_keys == ["a", "b"]
    assert settings.cors_origins == ["http://x.test"]
    assert settings.max_iterations == 7
    assert "secret-wx" not in repr(settings)
    assert "secret-wx" in settings.secrets()


def test_defaults_match_the_contract():
    s = Settings(_env_file=None)
    assert (s.session_store, s.session_ttl_seconds, s.session_max_messages) == ("memory", 1800,
                                                                                200)
    assert (s.turn_wait_seconds, s.max_iterations, s.llm_timeout_seconds) == (30, 10, 30)
    assert (s.host, s.port, s.log_file, s.log_level) == ("127.0.0.1", 8000, "app.log", "INFO")
    assert (s.wx_model_id, s.wx_tool_mode, s.wx_max_retries, s.wx_max_connections) == (
        "mistralai/mistral-large", "native", 2, 100)
    assert (s.max_upload_bytes, s.max_audio_seconds) == (10485760, 120)
    assert (s.stt_model, s.tts_voice) == ("en-US_BroadbandModel", "en-US_LisaV3Voice")


async def test_log_lines_carry_ids_and_mask_secrets(tmp_path):
    log_file = tmp_path / "app.log"
    secret = "sk-very-secret-key"
    llm = ScriptedLLM([[call("search_places", text_query=f"MG Road {secret}")],
                       [call("prompt_user", question="Where to?")]])
    app = create_app(make_settings(log_file=str(log_file), api_keys=secret,
                                   google_maps_api_key="gmaps-secret-1", places_backend="offline"),
                     Overrides(llm=llm))
    async with running(app) as client:
        response = await client.post("/chat", json={"query": f"my key is {secret}",
                                                    "session_id": "logged-1"},
                                     headers={"X-API-Key": secret, "X-Request-ID": "req-42"})
        assert response.status_code == 200
        logging.getLogger("test").info("leak attempt gmaps-secret-1 %s", secret)
    text = log_file.read_text()
    assert secret not in text and "gmaps-secret-1" not in text
    assert "***" in text
    turn_lines = [line for line in text.splitlines() if "turn done" in line]
    assert turn_lines and "req=req-42" in turn_lines[0] and "session=logged-1" in turn_lines[0]
