"""Paired bootstrap of Δ = adapted − base: resampled deltas, intervals, p-value.

One set of resamples is shared by both models (that is what makes it *paired*). Intervals:
percentile, and BCa (bias-corrected and accelerated, Efron & Tibshirani 1993, §14.3) with the
same conventions as :func:`scipy.stats.bootstrap` (bias from the 'mean' percentile of the
observed Δ among the resampled ones, acceleration from the leave-one-unit-out jackknife,
quantiles by linear interpolation), so both agree exactly on the same resamples.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from dabench.stats import _resample
from dabench.stats._units import Units

#: "at least as extreme" is counted with this absolute tolerance (scaled by max(1, |Δ|)) so
#: that resamples equal to the observed value up to rounding count, and a model against
#: itself gets p = 1 exactly
TOLERANCE = 1e-9


def tolerance(delta: float) -> float:
    """Tolerance for comparing resampled statistics with the observed ``delta``."""
    return TOLERANCE * max(1.0, abs(delta))


def bootstrap_deltas(
    units: Units,
    rng: np.random.Generator | None,
    resamples: int,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """Δ on ``resamples`` paired bootstrap resamples ``(B,)`` (or on the given unit indices ``(B, G)``)."""
    if indices is not None:
        indices = np.asarray(indices)
        if indices.ndim != 2 or indices.shape[1] != units.n_units:
            raise ValueError(f"indices must have shape (B, {units.n_units}), got {indices.shape}")
        if indices.size and (indices.min() < 0 or indices.max() >= units.n_units):
            raise ValueError(f"indices must lie in [0, {units.n_units})")
        resamples = indices.shape[0]
    out = np.empty(resamples)
    width = max(_resample.score_width(units), units.n_units if indices is not None else _resample.draw_width(units))
    for lo, hi in _resample.blocks(resamples, width):
        if indices is not None:
            counts = _resample.counts_from_indices(units, indices[lo:hi])
        else:
            assert rng is not None
            counts = _resample.draw_counts(rng, units, hi - lo)
        sb, sa = _resample.score_counts(units, counts)
        out[lo:hi] = sa - sb
    return out


def bootstrap_pvalue(deltas: np.ndarray, delta: float) -> float:
    """Two-sided bootstrap p-value of H0: Δ = 0 by the shift method.

    The resampled deltas centred on the observed one approximate the null distribution;
    p = (1 + #{|Δ*_b − Δ| ≥ |Δ| − tol}) / (B + 1).
    """
    tol = tolerance(delta)
    extreme = np.count_nonzero(np.abs(deltas - delta) >= abs(delta) - tol)
    return float(min(1.0, (extreme + 1) / (deltas.shape[0] + 1)))


def standard_error(deltas: np.ndarray) -> float:
    """Bootstrap standard error (sample standard deviation of the resampled deltas)."""
    if deltas.shape[0] < 2:
        return float("nan")
    return float(np.std(deltas, ddof=1))


def percentile_interval(deltas: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval at confidence ``level`` (linear-interpolated quantiles)."""
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(deltas, [a, 1.0 - a])
    return float(lo), float(hi)


def bca_parameters(deltas: np.ndarray, delta: float, jack: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Bias correction z0 and acceleration a of the BCa interval.

    z0 counts resamples below Δ, ties as half: a Δ* within :func:`tolerance` of Δ (equal but
    summed in another order) is a tie, as scipy's would be. ``jack``: leave-one-unit-out Δ per
    unit type; ``weights``: units per type (the jackknife runs over all units).
    """
    B = deltas.shape[0]
    tol = tolerance(delta)
    below = np.count_nonzero(deltas < delta - tol) + np.count_nonzero(deltas <= delta + tol)
    z0 = float(ndtri(below / (2.0 * B)))
    w = np.asarray(weights, dtype=np.float64)
    mean = float(w @ jack) / float(w.sum())
    u = mean - jack
    den = float(w @ u**2)
    a = 0.0 if den <= 0.0 else float(w @ u**3) / (6.0 * den**1.5)
    return z0, a


def bca_interval(deltas: np.ndarray, z0: float, a: float, level: float) -> tuple[float, float] | None:
    """BCa interval at confidence ``level``; None when it is undefined (degenerate resamples)."""
    z = float(ndtri((1.0 - level) / 2.0))
    probs = [float(ndtr(z0 + num / (1.0 - a * num))) for num in (z0 + z, z0 - z)]
    if not all(np.isfinite(probs)):
        return None
    lo, hi = np.quantile(deltas, probs)
    return float(lo), float(hi)
