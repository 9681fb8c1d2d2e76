"""Paired permutation test (approximate randomisation / sign flips) of H0: the models are exchangeable.

Under H0 the base and adapted outputs of each unit (example or cluster) are exchangeable, so
swapping them on any subset of units gives an equally likely data set. The p-value is the
probability, over swaps, of a |Δ| at least as large as the observed one ("at least as large"
with a small tolerance, so identical systems get p = 1).

- Exact: when the number of distinct swap configurations is at most ``exact_limit``, all are
  enumerated with their probabilities (types with m identical units contribute m + 1
  configurations weighted Binomial(m, 1/2)). For a binary outcome averaged over independent
  examples (accuracy) the swap distribution of Δ is the exact McNemar binomial, used directly.
- Sampled: otherwise ``resamples`` random swap sets, p = (count + 1) / (resamples + 1).

Units whose two outputs are identical are unchanged by a swap and never drawn.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom

from dabench.stats import _resample
from dabench.stats._units import Units
from dabench.stats.bootstrap import tolerance
from dabench.stats.mcnemar import mcnemar_exact

#: enumerate the swap distribution exactly when it has at most this many configurations
EXACT_LIMIT = 1 << 16


def permutation_test(
    units: Units,
    rng: np.random.Generator,
    resamples: int = 10_000,
    exact_limit: int = EXACT_LIMIT,
) -> tuple[float, str]:
    """Two-sided paired permutation p-value of Δ for the comparison described by ``units``, and
    how it was obtained (``"exact"``, ``"mcnemar"`` or ``"sampled"``)."""
    sb, sa = _resample.observed(units)
    delta = sa - sb
    if not units.discordant.any():
        return 1.0, "exact"
    binary = _binary_mean_outcomes(units)
    if binary is not None:
        return mcnemar_exact(*binary), "mcnemar"
    tol = tolerance(delta)
    mult = units.mult[units.discordant]
    if math.prod(int(m) + 1 for m in mult) <= exact_limit:  # distinct swap configurations
        return _exact(units, mult, delta, tol), "exact"
    extreme = 0
    width = max(_resample.score_width(units), _resample.flip_width(mult))
    for lo, hi in _resample.blocks(resamples, width):
        flips = _resample.draw_flips(rng, mult, hi - lo)
        pb, pa = _resample.score_flips(units, flips)
        extreme += int(np.count_nonzero(np.abs(pa - pb) >= abs(delta) - tol))
    return min(1.0, (extreme + 1) / (resamples + 1)), "sampled"


def _exact(units: Units, mult: np.ndarray, delta: float, tol: float) -> float:
    grids = np.indices(tuple(int(m) + 1 for m in mult)).reshape(mult.shape[0], -1).T
    weights = np.ones(grids.shape[0])
    for j, m in enumerate(mult):
        weights *= binom.pmf(grids[:, j], int(m), 0.5)
    p = 0.0
    for lo, hi in _resample.blocks(grids.shape[0], _resample.score_width(units)):
        pb, pa = _resample.score_flips(units, grids[lo:hi])
        p += float(weights[lo:hi][np.abs(pa - pb) >= abs(delta) - tol].sum())
    return min(1.0, p)


def _binary_mean_outcomes(units: Units) -> tuple[int, int] | None:
    """(adapted-only wins, base-only wins) when Δ is a difference of means of 0/1 outcomes
    over independent examples, else None."""
    metric = units.metric
    if not (metric.binary_outcome and metric.decomposable) or units.n_units != units.n_examples:  # clustered
        return None
    pb = metric.per_example(units.base)
    pa = metric.per_example(units.adapted)
    if pb is None or pa is None:
        return None
    pb, pa = np.asarray(pb, dtype=np.float64), np.asarray(pa, dtype=np.float64)
    if not (np.isin(pb, (0.0, 1.0)).all() and np.isin(pa, (0.0, 1.0)).all()):
        return None
    wins = int(units.mult[(pa == 1) & (pb == 0)].sum())
    losses = int(units.mult[(pa == 0) & (pb == 1)].sum())
    return wins, losses
