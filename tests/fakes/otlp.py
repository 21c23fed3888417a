"""A local OTLP trace receiver (what an OpenTelemetry Collector does first): http/protobuf on
`POST /v1/traces` and grpc's `TraceService/Export`, keeping every span it is sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .server import free_port, serve


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


@dataclass
class Receiver:
    spans: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, request: trace_service_pb2.ExportTraceServiceRequest) -> None:
        with self._lock:
            for resource_spans in request.resource_spans:
                self.resources.append({a.key: _value(a.value)
                                       for a in resource_spans.resource.attributes})
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append({
                            "name": span.name, "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(), "kind": span.kind,
                            "status": span.status.code,
                            "attributes": {a.key: _value(a.value) for a in span.attributes}})

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The spans received once there are at least `count` (or all there are at timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.spans) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            return list(self.spans)

    def app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            message = trace_service_pb2.ExportTraceServiceRequest()
            message.ParseFromString(await request.body())
            self.take(message)
            reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            return Response(reply, media_type="application/x-protobuf")

        return Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])


@contextmanager
def http_receiver() -> Iterator[tuple[Receiver, str]]:
    """A receiver and its base URL (give it as OTEL_EXPORTER_OTLP_ENDPOINT)."""
    receiver = Receiver()
    with serve(receiver.app()) as url:
        yield receiver, url


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def Export(self, request, context):  # the grpc method's own name
        self.receiver.take(request)
        return trace_service_pb2.ExportTraceServiceResponse()


@contextmanager
def grpc_receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(receiver), server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield receiver, f"http://127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
