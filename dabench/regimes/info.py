"""Reading a trained regime's details back out of a Comparison."""

from __future__ import annotations

from typing import Any, Mapping

from dabench.comparison import Comparison


def regime_info(comparison: Comparison | Mapping[str, Any], task: str) -> dict[str, Any]:
    """The regime details of ``task`` in a Comparison (object or dict); ``{}`` for a prompted task."""
    data = comparison.to_dict() if isinstance(comparison, Comparison) else comparison
    for t in data["tasks"]:
        if t["task"] == task:
            return dict(t.get("regime") or {})
    raise KeyError(f"no task {task!r} in this comparison")
