"""Speech-to-text backends: protocol in `base.py`, one backend per file, `factory.py` builds."""
