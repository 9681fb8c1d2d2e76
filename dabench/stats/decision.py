"""Verdicts per task and summaries across comparisons (see docs/statistics.md).

- ``verdict``: ``win`` / ``loss`` when the (multiplicity-adjusted) p-value is below α, by the
  sign of Δ and the metric's direction; otherwise ``tie``.
- ``equivalent`` (margin m): TOST at level α, i.e. the (1 − 2α) interval of Δ lies inside (−m, m).
- ``non_inferior`` (margin m): that interval's lower bound is above −m (for a lower-is-better
  metric: its upper bound below +m).
- ``underpowered``: a tie whose minimum detectable effect (80% power) exceeds the margin, or
  :data:`DEFAULT_MDE_THRESHOLD` without one: such a tie is no evidence of "no effect".
- No margin claim rests on fewer than :data:`MIN_MARGIN_UNITS` resampling units, nor on
  resamples without spread (the interval collapses to [Δ, Δ]) unless the MDE shows the data
  could reveal a difference as large as the margin: ``equivalent`` and ``non_inferior`` are
  then False and ``reason`` says why.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

#: MDE above which a tie is flagged underpowered when no margin is given: 0.01 in the metric's
#: units (one point of accuracy / F1 on a 0–1 scale)
DEFAULT_MDE_THRESHOLD = 0.01

#: fewest resampling units (examples, or clusters) on which an interval may support an
#: equivalence or non-inferiority claim: below this the bootstrap distribution takes few
#: distinct values and its variance ((G − 1)/G of the truth) is itself a guess
MIN_MARGIN_UNITS = 10

VERDICTS = ("win", "tie", "loss")


def _interval(result: Any, alpha: float) -> tuple[float, float]:
    level = 1.0 - 2.0 * alpha
    interval = getattr(result, "interval", None)
    if callable(interval):
        return interval(level)
    return tuple(result.ci_tost)


def decide(
    result: Any,
    p_adjusted: float | None = None,
    *,
    alpha: float = 0.05,
    margin: float | None = None,
    mde_threshold: float = DEFAULT_MDE_THRESHOLD,
) -> dict[str, Any]:
    """Verdict of one paired result (a :class:`PairedResult` or :class:`SeedsResult`).

    ``p_adjusted`` is the task's p-value after multiplicity adjustment (the result's own
    headline p when None). ``margin`` defaults to the result's margin.
    """
    p = result.p_value if p_adjusted is None else float(p_adjusted)
    if margin is None:
        margin = getattr(result, "margin", None)
    higher = bool(getattr(result, "higher_is_better", True))
    delta = float(result.delta)
    verdict = "tie"
    if p < alpha and delta != 0.0:
        better = delta > 0 if higher else delta < 0
        verdict = "win" if better else "loss"
    equivalent = non_inferior = None
    mde = float(result.mde)
    reason = None
    if margin is not None:
        lo, hi = _interval(result, alpha)
        reason = margin_claim_refusal(result, lo, hi, mde, margin)
        if reason is None:
            equivalent = bool(-margin < lo and hi < margin)
            non_inferior = bool(lo > -margin) if higher else bool(hi < margin)
        else:
            equivalent = non_inferior = False
    threshold = mde_threshold if margin is None else margin
    underpowered = bool(verdict == "tie" and not math.isnan(mde) and mde > threshold)
    return {
        "verdict": verdict,
        "equivalent": equivalent,
        "non_inferior": non_inferior,
        "underpowered": underpowered,
        "reason": reason,
    }


def margin_claim_refusal(result: Any, lo: float, hi: float, mde: float, margin: float) -> str | None:
    """Why no equivalence / non-inferiority claim may rest on this result (None when one may)."""
    units = getattr(result, "n_units", None)
    if units is not None and int(units) < MIN_MARGIN_UNITS:
        return (f"only {int(units)} resampling unit(s): a margin claim needs at least {MIN_MARGIN_UNITS}; "
                "evaluate on more examples")
    se = getattr(result, "se", None)
    no_spread = se is not None and not (math.isfinite(float(se)) and float(se) > 0)
    degenerate = no_spread or not hi > lo
    if degenerate and not (math.isfinite(mde) and mde <= margin):
        return ("the resamples have no spread (the models agree on every unit), so the data cannot bound Δ "
                f"within ±{margin:g}; evaluate on more examples")
    return None


def summarize(decisions: Iterable[Mapping[str, Any] | str]) -> dict[str, Any]:
    """Win/tie/loss counts and shares over many comparisons (decisions from :func:`decide`,
    or bare verdict strings), as in head-to-head studies of adapted models."""
    counts = {v: 0 for v in VERDICTS}
    flags = {"underpowered": 0, "equivalent": 0, "non_inferior": 0}
    for d in decisions:
        verdict = d if isinstance(d, str) else d["verdict"]
        if verdict not in counts:
            raise ValueError(f"unknown verdict {verdict!r}; expected one of {', '.join(VERDICTS)}")
        counts[verdict] += 1
        if not isinstance(d, str):
            for key in flags:
                flags[key] += int(bool(d.get(key)))
    total = sum(counts.values())
    shares = {v: (counts[v] / total if total else float("nan")) for v in VERDICTS}
    return {"n": total, **counts, "shares": shares, **flags}
