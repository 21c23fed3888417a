#!/usr/bin/env bash
# Install the service and its test tools into .venv, lint, and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k chat).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_requirements requirements-dev.txt
ruff check .
python -m pytest "$@"
