"""Text-to-speech backends: protocol in `base.py`, one backend per file, `factory.py` builds."""
