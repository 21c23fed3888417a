"""Speech: audio in and out (`audio.py`), speech-to-text (`stt/`), text-to-speech (`tts/`)."""
