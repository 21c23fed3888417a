"""Serving an app in its own process (uvicorn), with the process's garbage collector settled once
the app has started.

Why the collector: start-up leaves about 170,000 long-lived objects (the SDKs, the agent, the
gazetteer). CPython's full collection walks all of them, a 110 ms pause of the one event loop
every session shares, measured during load; and the young generation's 700-allocation threshold
collected 60 times per 256 turns under load, each time walking every in-flight request. Freezing
what start-up built takes it out of the collector's sight, and a larger young threshold makes
collections rare; only cyclic garbage waits longer (a few MB at most)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


def serve(app: FastAPI, host: str, port: int, **uvicorn_options: Any) -> None:
    """Run `app` until stopped; `settle_heap` runs right after the app's own start-up."""
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
    uvicorn.run(app, host=host, port=port, log_config=None, **uvicorn_options)
