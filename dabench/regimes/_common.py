"""Pieces shared by the regime and intrinsic comparisons: checkpoints, run keys, the Comparison."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, TaskResult, created_now
from dabench.engines import checkpoints as ckpts
from dabench.errors import CheckpointError

def resolve_checkpoint(name: str, options: Mapping[str, Any] | None = None) -> ckpts.Checkpoint:
    opts = options or {}
    return ckpts.resolve(name, arch=opts.get("arch"), adapter_base=opts.get("adapter_base"), prefix=opts.get("ckpt_prefix"))


def checkpoint_fingerprint(ck: ckpts.Checkpoint) -> str:
    """Fingerprint of the checkpoint's files (never downloads: a hub model must be cached)."""
    try:
        return ckpts.fingerprint(ck, download=False)
    except CheckpointError:
        return ckpts.fingerprint(ck, download=True)


def model_info(name: str, ck: ckpts.Checkpoint, fp: str) -> ModelInfo:
    return ModelInfo(name=Path(name.rstrip("/")).name or name, path=str(ck.location), fingerprint=fp)


def run_key(payload: Mapping[str, Any]) -> str:
    """A short hash of everything that determines a model's records besides the model."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def ids_hash(ids: Sequence[str]) -> str:
    """A short hash of an ordered list of ids (part of run keys)."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def build_comparison(
    base: ModelInfo, adapted: ModelInfo, results: list[TaskResult], config: dict[str, Any], signature: dict[str, Any]
) -> Comparison:
    """The Comparison of a regime run."""
    return Comparison(
        base=base, adapted=adapted, config=config, tasks=results, signature={"dabench_version": __version__, **signature},
        dabench_version=__version__,
        created=created_now(),
    )


def regime_info(comparison: Comparison | Mapping[str, Any], task: str) -> dict[str, Any]:
    """The regime details of ``task`` in a Comparison (object or dict); ``{}`` for a prompted task."""
    data = comparison.to_dict() if isinstance(comparison, Comparison) else comparison
    for t in data["tasks"]:
        if t["task"] == task:
            return dict(t.get("regime") or {})
    raise KeyError(f"no task {task!r} in this comparison")
