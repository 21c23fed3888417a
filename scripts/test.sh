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
  # strategy): every agent's public cases played over HTTP by the evaluation command, the cab
  # agent and every example agent in one service; each agent must get at least 90 % right.
  echo "Playing every agent's public cases on the embedded model (about 20 minutes)"
  mkdir -p reports
  LLM_BACKEND=local AGENT_STRATEGY=auto LOG_FILE= LOG_LEVEL=WARNING \
    AGENTS=agent_session/data/cab_agent.yaml,examples/agents DEFAULT_AGENT=cab-booking \
    python -m agent_session.eval conversations/cab-booking.public.yaml \
      examples/agents/cases/*.public.yaml --min-pass-rate 0.9 --junit reports/eval-public.xml
fi
