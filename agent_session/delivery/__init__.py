"""Session events delivered to the user's systems: webhooks (`sender.py`) fed by every store's
outbox (`stores/outbox.py`)."""
