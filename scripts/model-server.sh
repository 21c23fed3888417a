#!/usr/bin/env bash
# Serve the bundled model over the OpenAI protocol (llama-cpp-python's server), so several
# replicas on this host share one model: point each at it with
#   LLM_BACKEND=openai OPENAI_BASE_URL=http://127.0.0.1:${MODEL_PORT:-8090}/v1 OPENAI_MODEL=qwen2.5-coder-1.5b
# MODEL_HOST / MODEL_PORT set where it listens (default 127.0.0.1:8090); LOCAL_MODEL_PATH
# serves another GGUF. Extra arguments go to `python -m llama_cpp.server`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_requirements requirements.txt
MODEL="${LOCAL_MODEL_PATH:-}"
if [ -z "$MODEL" ]; then
  echo "Assembling the bundled model (once, about 5 s)"
  MODEL="$(python -c 'from agent_session.config import Settings
from agent_session.llm.model_files import assemble
print(assemble(Settings().model_cache_dir))')"
fi
echo "Serving $MODEL on http://${MODEL_HOST:-127.0.0.1}:${MODEL_PORT:-8090}/v1 (model qwen2.5-coder-1.5b)"
exec python -m llama_cpp.server --model "$MODEL" --model_alias qwen2.5-coder-1.5b \
  --host "${MODEL_HOST:-127.0.0.1}" --port "${MODEL_PORT:-8090}" --n_ctx 4096 \
  --n_threads "$(nproc)" "$@"
