#!/usr/bin/env bash
# Install the service and its test tools into .venv, lint, and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k chat).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_requirements requirements-dev.txt
# The watsonx Orchestrate ADK, which tests/test_orchestrate.py imports our OpenAPI document with.
ensure_tool_venv .venv-orchestrate requirements-orchestrate.txt
ruff check .
python -m pytest "$@"
if [ "$#" -eq 0 ]; then
  # The embedded model end to end, as a new user runs it (AGENT_STRATEGY=auto: the form
  # strategy): every public conversation played over HTTP; at least 90 % must book right.
  echo "Playing the public conversations on the embedded model (about 2 minutes)"
  LLM_BACKEND=local AGENT_STRATEGY=auto LOG_FILE= LOG_LEVEL=WARNING \
    python -m agent_session.eval conversations/cab_public.json --min-pass-rate 0.9
fi
