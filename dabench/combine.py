"""One comparison from the parts of a run that mixes task types (prompted tasks and intrinsic
perplexity tasks): both parts compare the same two checkpoints, each with its own pipeline,
and their tasks become one family for the multiplicity correction, as if run together."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison
from dabench.errors import PairingError
from dabench.verdicts import reapply_verdicts


def combine_comparisons(
    parts: Sequence[Comparison], *, correction: str, alpha: float, margin: float | None
) -> Comparison:
    """The tasks of ``parts`` as one comparison: p-values adjusted across all of them, verdicts
    decided again; the first part's config, plus which tasks came from which regime."""
    first = parts[0]
    for part in parts[1:]:
        for role in ("base", "adapted"):
            if getattr(part, role).fingerprint != getattr(first, role).fingerprint:
                raise PairingError(f"the {role} checkpoint changed between the parts of this comparison "
                                   f"({getattr(first, role).fingerprint[:12]} vs {getattr(part, role).fingerprint[:12]})")
    tasks = reapply_verdicts([t for p in parts for t in p.tasks], correction=correction, alpha=alpha, margin=margin)
    config = dict(first.config)
    config["tasks"] = [t.task for t in tasks]
    config["tasks_by_regime"] = {str(p.config.get("regime", "prompt")): [t.task for t in p.tasks] for p in parts}
    signature: dict[str, Any] = dict(first.signature)
    for part in parts[1:]:
        for key, value in part.signature.items():
            if isinstance(value, dict) and isinstance(signature.get(key), dict):
                signature[key] = {**signature[key], **value}
            else:
                signature.setdefault(key, value)
    signature["dabench_version"] = __version__
    signature.pop("regime", None)
    return Comparison(base=first.base, adapted=first.adapted, config=config, tasks=tasks, signature=signature,
                      dabench_version=__version__,
                      created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat())
