"""Service configuration: one pydantic-settings class over the environment and `.env`.

The field names (upper-cased) are the deployment contract in docs/architecture.md; keep them
stable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # watsonx.ai
    wx_api_key: SecretStr | None = None
    wx_url: str | None = None
    wx_project_id: str | None = None
    wx_model_id: str = "mistralai/mistral-large"
    wx_auth_url: str | None = None
    wx_platform_url: str | None = None
    wx_verify: str = "true"
    wx_tool_mode: Literal["native", "json"] = "native"
    wx_max_retries: int = Field(2, ge=0, le=10)
    wx_max_connections: int = Field(100, ge=1)

    # An OpenAI-compatible server (vLLM, Ollama, llama.cpp's server)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str | None = None
    openai_verify: str = "true"
    openai_max_retries: int = Field(2, ge=0, le=10)

    llm_backend: Literal["auto", "watsonx", "openai", "local", "echo", "none"] = "auto"
    llm_timeout_seconds: float = Field(30.0, gt=0)
    local_model_path: Path | None = None
    model_cache_dir: Path = Path("~/.cache/agent-session").expanduser()

    # Watson Speech
    stt_api_key: SecretStr | None = None
    stt_url: str | None = None
    tts_api_key: SecretStr | None = None
    tts_url: str | None = None
    stt_auth_url: str | None = None
    tts_auth_url: str | None = None
    stt_verify: str = "true"
    tts_verify: str = "true"
    stt_backend: Literal["auto", "watson", "local"] = "auto"
    tts_backend: Literal["auto", "watson", "local"] = "auto"
    stt_model: str = "en-US_BroadbandModel"
    tts_voice: str = "en-US_LisaV3Voice"

    # Sessions and turns
    session_store: str = "memory"
    session_ttl_seconds: float = Field(1800, gt=0)
    session_max_messages: int = Field(200, ge=4)
    turn_wait_seconds: float = Field(30, ge=0)
    turn_lease_seconds: float = Field(60, gt=1)
    max_iterations: int = Field(10, ge=1, le=100)
    turn_timeout_seconds: float = Field(25, gt=0)
    shutdown_grace_seconds: float = Field(20, ge=0)
    action_timeout_seconds: float = Field(10, gt=0)

    # Agent
    agent_strategy: Literal["auto", "react", "form"] = "auto"
    agent_file: Path | None = None
    # Several agents: files and folders (every *.yaml, *.yml, *.json in a folder); the agent a
    # turn that names none runs (default: the first loaded)
    agents: CommaList = []
    default_agent: str | None = None
    users_file: Path | None = None
    timezone: str | None = None

    # Access
    api_keys: CommaList = []
    rate_limit: str = ""
    cors_origins: CommaList = []

    # Places
    google_maps_api_key: SecretStr | None = None
    google_places_url: str = "https://places.googleapis.com"
    places_backend: Literal["auto", "google", "offline"] = "auto"

    # Phone calls: Twilio's account auth token checks its webhook's signature (unset: off)
    twilio_auth_token: SecretStr | None = None

    # Webhooks: session events POSTed to WEBHOOK_URL, signed with WEBHOOK_SECRET (whsec_...)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None

    # Uploads
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_audio_seconds: float = Field(120, gt=0)
    # Hands-free voice (/voice/ws): the silence that ends an utterance, and the speech that
    # starts one (shorter noise starts nothing)
    vad_silence_ms: float = Field(600, ge=100, le=5000)
    vad_min_speech_ms: float = Field(250, ge=0, le=5000)

    # Process
    log_file: str = "app.log"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # The absolute URL callers reach the service by (named in /openapi-3.0.json); unset: the URL
    # of each request, as a trusted proxy (FORWARDED_ALLOW_IPS, as uvicorn's) forwards it.
    public_base_url: str | None = None
    forwarded_allow_ips: str = "127.0.0.1,::1"

    @field_validator("api_keys", "cors_origins", "agents", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _work_together(self) -> Settings:
        """Settings that cannot work together stop start-up, naming what to change. (A model
        call or an action may be allowed longer than the turn: it gets what is left of it.)"""
        if self.session_ttl_seconds <= self.turn_timeout_seconds:
            raise ValueError(
                f"SESSION_TTL_SECONDS ({self.session_ttl_seconds:g}) must be longer than "
                f"TURN_TIMEOUT_SECONDS ({self.turn_timeout_seconds:g}): a session would expire "
                "during its own turn.")
        if self.default_agent and not (self.agents or self.agent_file) and \
                self.default_agent != "cab-booking":
            raise ValueError(f"DEFAULT_AGENT={self.default_agent} names an agent, but AGENTS "
                             "and AGENT_FILE are unset: only the bundled cab-booking runs.")
        if bool(self.webhook_url) != bool(self.webhook_secret):
            raise ValueError("WEBHOOK_URL and WEBHOOK_SECRET go together: every event is "
                             "signed, so set both (or neither, for no webhooks).")
        return self

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    def secrets(self) -> list[str]:
        """Every secret value configured, so log filters can mask them."""
        values = [self.wx_api_key, self.stt_api_key, self.tts_api_key, self.google_maps_api_key,
                  self.openai_api_key, self.webhook_secret, self.twilio_auth_token]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        return found + [key for key in self.api_keys if key]
