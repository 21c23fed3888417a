"""Prometheus metrics for one app instance (its own registry: no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter("agent_turns_total", "Finished or failed turns by outcome",
                             ["outcome"], registry=self.registry)
        self.steps = Histogram("agent_turn_steps", "Agent steps per finished turn",
                               buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50),
                               registry=self.registry)
        self.llm_seconds = Histogram("agent_llm_call_seconds", "Latency of one LLM call",
                                     ["backend"], buckets=LATENCY_BUCKETS,
                                     registry=self.registry)
        self.stt_seconds = Histogram("agent_stt_seconds", "Speech-to-text latency",
                                     ["backend"], buckets=LATENCY_BUCKETS,
                                     registry=self.registry)
        self.tts_seconds = Histogram("agent_tts_seconds", "Text-to-speech latency (whole text)",
                                     ["backend"], buckets=LATENCY_BUCKETS,
                                     registry=self.registry)
        self.errors = Counter("agent_errors_total", "Errors answered, by kind", ["kind"],
                              registry=self.registry)
        self.turns_in_progress = Gauge("agent_turns_in_progress", "Turns running now",
                                       registry=self.registry)
        self.active_sessions = Gauge("agent_active_sessions", "Sessions not yet expired",
                                     registry=self.registry)
        self.voice_calls = Counter("agent_voice_calls_total", "Phone calls started, by carrier",
                                   ["transport"], registry=self.registry)
        self.webhooks = Counter(
            "agent_webhook_deliveries_total", "Webhook attempts: delivered (the receiver "
            "answered 2xx), failed (it did not, or could not be reached), retried (an attempt "
            "after a failed one)", ["result"], registry=self.registry)
        self.webhook_backlog = Gauge("agent_webhook_pending_events",
                                     "Events stored and not yet delivered",
                                     registry=self.registry)
        self.webhook_oldest = Gauge("agent_webhook_oldest_pending_seconds",
                                    "Age of the oldest event not yet delivered (0: none)",
                                    registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
