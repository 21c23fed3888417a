"""Session stores: one protocol (`base.py`), one backend per file, built by `factory.py`."""
