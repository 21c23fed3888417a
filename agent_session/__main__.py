"""`python -m agent_session`: serve the app with uvicorn on HOST:PORT."""

from __future__ import annotations

from .config import Settings
from .main import create_app
from .server import serve
from .tracing import export_dotenv_otel


def main() -> None:
    export_dotenv_otel()
    settings = Settings()
    serve(create_app(settings), settings.host, settings.port, settings.shutdown_grace_seconds)


if __name__ == "__main__":
    main()
