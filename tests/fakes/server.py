"""Serve an ASGI app on 127.0.0.1 in a background thread (uvicorn), optionally over TLS, so the
real client code under test talks HTTP to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app, certfile: Path | None = None, keyfile: Path | None = None,
          lifespan: bool = False, port: int | None = None) -> Iterator[str]:
    """Yield the base URL of `app` served on a loopback port (`port`, else a free one) until
    the block ends."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ssl_certfile=str(certfile) if certfile else None,
                            ssl_keyfile=str(keyfile) if keyfile else None,
                            lifespan="on" if lifespan else "off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake server did not start")
        time.sleep(0.01)
    scheme = "https" if certfile else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=2)
        # An idle TLS keep-alive client never answers the close: stop waiting for it.
        server.force_exit = True
        thread.join(timeout=10)
