"""Fingerprints of checkpoints on disk.

The fingerprint hashes the bytes of every file that determines the model's outputs
(weights, adapter weights, configs, tokenizer files), so a changed checkpoint at the same
path gets a new fingerprint. Hashing is cached per (path, size, mtime) in-process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_RELEVANT_SUFFIXES = {".safetensors", ".bin", ".json", ".model", ".txt", ".ckpt", ".pt", ".pth", ".tiktoken"}
_cache: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _cache:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        _cache[key] = h.hexdigest()
    return _cache[key]


def directory_fingerprint(directory: Path) -> str:
    """Hash of the names and contents of a checkpoint directory's relevant files."""
    h = hashlib.sha256()
    for p in sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in _RELEVANT_SUFFIXES):
        if p.name in {"trainer_state.json", "training_args.json", "README.md"}:
            continue
        h.update(str(p.relative_to(directory)).encode())
        h.update(file_digest(p).encode())
    return h.hexdigest()[:20]


def fingerprint_of(*parts: str) -> str:
    """Combine component fingerprints (e.g. base weights and adapter) into one."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
