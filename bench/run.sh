#!/usr/bin/env bash
# Every benchmark, one after another, on the project's .venv (make it with scripts/test.sh).
# Each prints its own figures; bench/README.md keeps the latest table. About 10 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
. .venv/bin/activate
export LOG_FILE="" LOG_LEVEL=WARNING
python bench/service.py      # 1 concurrency efficiency, 2 turn overhead, 4 history growth
python bench/stores.py       # 3 memory and store costs, listing at 100k sessions
python bench/speech.py       # 5 voice: STT RTF, TTS first byte, /voice minus the LLM
python bench/llm_local.py    # 6 local model: every agent's public cases, per agent (about 8 minutes)
python bench/llama_speed.py  # 7 the llama.cpp build: prompt reading and writing speed
