"""Serving an app in its own process (uvicorn): graceful shutdown, and the process's garbage
collector settled once the app has started.

Why the shutdown parts: on SIGTERM (every Code Engine roll-out and scale-down) uvicorn closes its
listening sockets and waits for in-flight requests, up to `SHUTDOWN_GRACE_SECONDS`, before the
app's lifespan closes the stores. The app is also told at once, so a request that still reaches it
on a kept-alive connection is refused (503) instead of starting a turn that may not finish; and
the signal uvicorn re-raises after its shutdown lands on a handler of ours, so a stop that was
asked for exits 0.

Why the collector: start-up leaves about 170,000 long-lived objects (the SDKs, the agent, the
gazetteer). CPython's full collection walks all of them, a 110 ms pause of the one event loop
every session shares, measured during load; and the young generation's 700-allocation threshold
collected 60 times per 256 turns under load, each time walking every in-flight request. Freezing
what start-up built takes it out of the collector's sight, and a larger young threshold makes
collections rare; only cyclic garbage waits longer (a few MB at most)."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

GC_THRESHOLDS = (20_000, 10, 10)
log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Collect once, freeze the survivors (start-up state), and raise the young threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, which also tells the app's services when a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        services = getattr(self.app.state, "services", None)
        if services is not None:
            services.manager.stop_taking_turns()
        super().handle_exit(sig, frame)


def _stopped(sig: int, frame: FrameType | None) -> None:
    """Where uvicorn's re-raised stop signal lands once it has shut down: a normal exit."""


def serve(app: FastAPI, host: str, port: int, grace_seconds: float = 20,
          **uvicorn_options: Any) -> None:
    """Run `app` until stopped; `settle_heap` runs right after the app's own start-up. A stop
    signal lets in-flight requests finish for up to `grace_seconds`."""
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[Any]:
        async with started(instance) as state:
            settle_heap()
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            log.info("voice page: http://%s:%d/ (the API: /chat, /docs)", shown, port)
            yield state

    app.router.lifespan_context = lifespan
    # log_config=None: our own handlers (request ids, secret masking) format every line.
    # proxy_headers=False: the app's TrustedProxyMiddleware handles forwarded headers.
    config = uvicorn.Config(app, host=host, port=port, log_config=None, proxy_headers=False,
                            timeout_graceful_shutdown=grace_seconds, **uvicorn_options)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    DrainingServer(config, app).run()
    log.info("stopped")
