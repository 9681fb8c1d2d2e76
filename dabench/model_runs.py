"""What the regimes and the intrinsic metrics (comparisons that load and run models themselves)
share: resolving and fingerprinting a checkpoint, and keying its records; here so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Sequence

from dabench.engines import checkpoints as ckpts, resolve_options
from dabench.errors import CheckpointError


def resolve_checkpoint(name: str, options: Mapping[str, Any] | None = None) -> ckpts.Checkpoint:
    """The checkpoint ``name`` names under the engine ``options`` (``arch``, ``adapter_base``, ``ckpt_prefix``)."""
    return resolve_options(name, options or {})


def checkpoint_fingerprint(ck: ckpts.Checkpoint) -> str:
    """Fingerprint of the checkpoint's files (downloads only a hub model missing from the cache)."""
    try:
        return ckpts.fingerprint(ck, download=False)
    except CheckpointError:
        return ckpts.fingerprint(ck, download=True)


def run_key(payload: Mapping[str, Any]) -> str:
    """A short hash of everything that determines a model's records besides the model."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def ids_hash(ids: Sequence[str]) -> str:
    """A short hash of an ordered list of ids (part of run keys)."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
