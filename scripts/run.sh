#!/usr/bin/env bash
# Install the service into .venv and run it on its embedded defaults (HOST:PORT, default
# 127.0.0.1:8000). Settings come from the environment and .env (see .env.example).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_requirements requirements.txt
exec python -m agent_session "$@"
