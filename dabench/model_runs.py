"""What the kinds that load and run models themselves (regimes, intrinsic metrics) share: the
keys of their records; here so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Sequence


def run_key(payload: Mapping[str, Any]) -> str:
    """A short hash of everything that determines a model's records besides the model."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def ids_hash(ids: Sequence[str]) -> str:
    """A short hash of an ordered list of ids (part of run keys)."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
