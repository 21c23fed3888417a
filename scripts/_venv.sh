# Sourced by run.sh and test.sh: make (or reuse) .venv and install a requirements file into it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
ensure_requirements() {
  # Reinstall only when the requirements files changed since the last install.
  local stamp=".venv/.installed-$1"
  local digest
  digest="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    python -m pip install --quiet --upgrade pip
    # llama.cpp compiles from source once (about 4 minutes on 2 cores); pip caches the wheel.
    CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" python -m pip install --quiet -r "$1"
    echo "$digest" > "$stamp"
  fi
}
