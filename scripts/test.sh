#!/usr/bin/env bash
# Install the service and its test tools into .venv, lint, and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k chat).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_requirements requirements-dev.txt
ruff check .
python -m pytest "$@"
if [ "$#" -eq 0 ]; then
  # The embedded model end to end: the first scripted conversation must book its cab.
  LLM_BACKEND=local LOG_FILE= LOG_LEVEL=WARNING LLM_TIMEOUT_SECONDS=300 \
    python -m agent_session.eval conversations/cab_public.json --only c01 --min-pass-rate 1
fi
