"""Builds the configured speech engines from `STT_BACKEND` / `TTS_BACKEND`."""

from __future__ import annotations

from ..config import Settings
from ..errors import ConfigurationError
from .stt.base import SpeechToText
from .tts.base import TextToSpeech


def build_speech_to_text(settings: Settings, vocabulary: list[str]) -> SpeechToText:
    backend = settings.stt_backend
    if backend == "auto":
        backend = "watson" if settings.stt_api_key is not None else "local"
    if backend == "watson":
        if settings.stt_api_key is None or not settings.stt_url:
            raise ConfigurationError("STT_BACKEND=watson needs STT_API_KEY and STT_URL.")
        from .stt.watson import WatsonSpeechToText

        return WatsonSpeechToText(settings.stt_api_key.get_secret_value(), settings.stt_url,
                                  settings.stt_auth_url, settings.stt_verify, settings.stt_model)
    from .stt.local import LocalSpeechToText

    return LocalSpeechToText(vocabulary)


def build_text_to_speech(settings: Settings) -> TextToSpeech:
    backend = settings.tts_backend
    if backend == "auto":
        backend = "watson" if settings.tts_api_key is not None else "local"
    if backend == "watson":
        if settings.tts_api_key is None or not settings.tts_url:
            raise ConfigurationError("TTS_BACKEND=watson needs TTS_API_KEY and TTS_URL.")
        from .tts.watson import WatsonTextToSpeech

        return WatsonTextToSpeech(settings.tts_api_key.get_secret_value(), settings.tts_url,
                                  settings.tts_auth_url, settings.tts_verify, settings.tts_voice)
    from .tts.local import LocalTextToSpeech

    return LocalTextToSpeech()
