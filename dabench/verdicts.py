"""Verdicts across the tasks of one comparison: multiplicity-adjusted p-values and decisions.

Every kind of comparison (prompting, fine-tune/probe regimes, intrinsic metrics, paired
lm-eval logs) ends the same way, so it ends here.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Sequence

from dabench.comparison import TaskResult
from dabench.errors import TaskError
from dabench.stats import adjust_pvalues, decide
from dabench.stats.decision import DEFAULT_MDE_THRESHOLD


def check_stats_options(alpha: float, correction: str) -> None:
    """The comparison-wide statistics options, checked before any model loads."""
    if correction not in ("holm", "bh"):
        raise TaskError(f"--correction must be holm or bh, not {correction!r}")
    if not 0 < alpha < 1:
        raise TaskError("--alpha must lie between 0 and 1")


def apply_verdicts(
    tested: Sequence[tuple[TaskResult, Any]], *, correction: str, alpha: float, margin: float | None
) -> list[TaskResult]:
    """Adjust the tasks' p-values across the comparison (``correction``: holm or bh) and give
    each task its verdict from its paired result; returns the TaskResults in order."""
    results = [r for r, _ in tested]
    adjusted = adjust_pvalues([r.p_value for r in results], method=correction)
    for (r, res), p_adj in zip(tested, adjusted):
        r.p_adjusted = float(p_adj)
        d = decide(res, r.p_adjusted, alpha=alpha, margin=margin)
        r.verdict = d["verdict"]
        r.equivalent = d.get("equivalent")
        r.non_inferior = d.get("non_inferior")
        r.underpowered = bool(d.get("underpowered", False))
    return results


def reapply_verdicts(
    results: Sequence[TaskResult], *, correction: str, alpha: float, margin: float | None
) -> list[TaskResult]:
    """Adjust finished tasks' p-values over a larger family (tasks of several comparisons of the
    same two models) and decide their verdicts again. Only ``p_adjusted``, ``verdict`` and
    ``underpowered`` depend on the family; every headline metric is higher-is-better."""
    results = list(results)
    adjusted = adjust_pvalues([r.p_value for r in results], method=correction)
    threshold = DEFAULT_MDE_THRESHOLD if margin is None else margin
    for r, p_adj in zip(results, adjusted):
        view = SimpleNamespace(p_value=r.p_value, delta=r.delta, higher_is_better=True,
                               mde=math.nan if r.mde is None else r.mde)
        d = decide(view, float(p_adj), alpha=alpha, margin=None, mde_threshold=threshold)
        r.p_adjusted, r.verdict, r.underpowered = float(p_adj), d["verdict"], bool(d["underpowered"])
    return results
