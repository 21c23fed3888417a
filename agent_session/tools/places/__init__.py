"""Place search: one protocol (`base.py`), one backend per file, built by `factory.py`."""
