"""`python -m agent_session`: serve the app with uvicorn on HOST:PORT."""

from __future__ import annotations

import uvicorn

from .config import Settings
from .main import create_app


def main() -> None:
    settings = Settings()
    # log_config=None: our own handlers (request ids, secret masking) format every line.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
