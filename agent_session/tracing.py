"""OpenTelemetry tracing, configured only by the standard `OTEL_*` variables.

Off (no provider, nothing wrapped, nothing sent) unless some `OTEL_*` variable is set, and off
again with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. When on, spans go over OTLP
to `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, by http/protobuf or by grpc as
`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` says; the SDK itself reads the rest (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, headers, timeouts).

The provider belongs to one app (built in its lifespan, flushed when it closes), never to the
process-global one, so two apps in one process (tests) keep their spans apart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from dotenv import dotenv_values
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer

from .errors import ConfigurationError

log = logging.getLogger(__name__)
DEFAULT_SERVICE_NAME = "agent-session-service"


def export_dotenv_otel(path: str = ".env") -> None:
    """Put the `OTEL_*` lines of `.env` into the process environment (the real environment wins),
    for `python -m agent_session`: the OpenTelemetry SDK reads only the environment, and the
    service's other settings come from `.env` too."""
    for name, value in dotenv_values(path).items():
        if name.startswith("OTEL_") and value and name not in os.environ:
            os.environ[name] = value


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(name.startswith("OTEL_") and value.strip() for name, value in environ.items())


def _exporter(environ: Mapping[str, str]) -> SpanExporter:
    protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol != "http/protobuf":
        raise ConfigurationError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; "
                                 "use http/protobuf or grpc.")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    return Http()


class Tracing:
    """One app's tracer provider; `tracer` is None when tracing is off."""

    def __init__(self, version: str, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None
        if not tracing_enabled(environ):
            return
        resource = Resource.create() if environ.get("OTEL_SERVICE_NAME") else \
            Resource.create({SERVICE_NAME: DEFAULT_SERVICE_NAME})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(_exporter(environ)))
        self.tracer = self.provider.get_tracer("agent_session", version)
        log.info("tracing on: OTLP spans to %s",
                 environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                 or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "the SDK's default endpoint")

    def close(self) -> None:
        """Send what is buffered and stop (uvicorn re-raises SIGTERM after its shutdown, so
        `atexit` hooks would not run: the app's lifespan calls this)."""
        if self.provider is not None:
            self.provider.shutdown()
