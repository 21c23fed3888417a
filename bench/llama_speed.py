"""How fast the installed llama.cpp build reads a prompt and writes tokens with the bundled
model (2 threads): the figures that chose the build flags in scripts/_venv.sh.

    python bench/llama_speed.py        # run once per build, back to back, and compare

The prompt is read from an empty context each time (a turn's new words are read the same way
after the cached prefix); the median of three runs is printed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_cpp import Llama

from agent_session.config import Settings
from agent_session.llm.model_files import assemble

PROMPT = ("You read one message from a user who is booking a table and copy out each detail. "
          * 40) + "\nMessage: a table for six tomorrow at 8 pm\nJSON:"


def main() -> None:
    llama = Llama(model_path=str(assemble(Settings(_env_file=None).model_cache_dir)),
                  n_ctx=4096, n_threads=2, verbose=False)
    tokens = llama.tokenize(PROMPT.encode())
    reading, whole = [], []
    for _ in range(3):
        llama.reset()
        started = time.perf_counter()
        llama.eval(tokens)
        reading.append(time.perf_counter() - started)
        llama.reset()
        started = time.perf_counter()
        out = llama.create_completion(PROMPT, max_tokens=48, temperature=0.0)
        whole.append(time.perf_counter() - started)
    written = out["usage"]["completion_tokens"]
    read_s, whole_s = statistics.median(reading), statistics.median(whole)
    print(f"prompt {len(tokens)} tokens: {len(tokens) / read_s:.0f} tok/s read; "
          f"{written} tokens written: {written / (whole_s - read_s):.1f} tok/s")


if __name__ == "__main__":
    main()
