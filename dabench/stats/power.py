"""Minimum detectable effect (MDE) of a paired comparison, for the test actually used.

- Bootstrap / permutation tests with an (approximately normal) estimate of Δ with standard
  error SE: MDE = (z_{1−α/2} + z_{power}) · SE (:func:`minimum_detectable_effect`). SE is the
  paired bootstrap standard error, so the MDE is in the metric's own units (0.012 on accuracy
  = 1.2 points) and accounts for the correlation between the two models.
- Exact McNemar (0/1 outcomes on independent examples): the power of the exact test itself,
  by summing over the binomial number of disagreements (:func:`mcnemar_mde`); the normal
  formula is optimistic there (n = 500, 15% disagreement: 0.0483 has power 0.77).
- The seeds test's t reference with few degrees of freedom: noncentral t (:func:`t_test_mde`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtri
from scipy.stats import binom, nct
from scipy.stats import t as student_t

#: power at which the MDE is reported
DEFAULT_POWER = 0.80


def minimum_detectable_effect(se: float, alpha: float = 0.05, power: float = DEFAULT_POWER) -> float:
    """Smallest |Δ| detected with probability ``power`` by a two-sided level-``alpha`` test."""
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("alpha and power must lie in (0, 1)")
    if not math.isfinite(se):
        return float("nan")
    return float((ndtri(1.0 - alpha / 2.0) + ndtri(power)) * se)


def t_test_mde(se: float, df: float, alpha: float = 0.05, power: float = DEFAULT_POWER) -> float:
    """Smallest |Δ| detected with probability ``power`` by a two-sided level-``alpha`` t-test
    with standard error ``se`` and ``df`` degrees of freedom (noncentral t; with few degrees
    of freedom this is much larger than the normal formula)."""
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError("alpha and power must lie in (0, 1)")
    if not (math.isfinite(se) and se > 0 and df > 0):
        return float("inf") if se == 0 or df <= 0 else float("nan")
    if df > 1e5:
        return minimum_detectable_effect(se, alpha, power)
    crit = float(student_t.ppf(1.0 - alpha / 2.0, df))

    def shortfall(ncp: float) -> float:
        upper = float(nct.sf(crit, df, ncp))
        lower = float(np.nan_to_num(nct.cdf(-crit, df, ncp)))  # the far tail: ~0, NaN in scipy at times
        return (1.0 if math.isnan(upper) else upper) + lower - power

    hi = 2.0 * (crit + float(ndtri(power))) + 1.0
    while shortfall(hi) < 0:
        hi *= 2.0
    return float(brentq(shortfall, 0.0, hi, xtol=1e-10) * se)


def _mcnemar_critical(d: np.ndarray, alpha: float) -> np.ndarray:
    """Largest k with exact two-sided McNemar p = 2·P(Bin(d, ½) ≤ k) < alpha, per total d of
    discordant pairs (−1 where no split of d pairs is significant)."""
    c = binom.ppf(alpha / 2.0, d, 0.5) - 1.0
    c = np.where(2.0 * binom.cdf(c + 1.0, d, 0.5) < alpha, c + 1.0, c)
    c = np.where((c >= 0) & (2.0 * binom.cdf(c, d, 0.5) >= alpha), c - 1.0, c)
    return c


def mcnemar_power(delta: float, n: int, discordance: float, alpha: float = 0.05) -> float:
    """Power of the two-sided exact McNemar test at level ``alpha`` on ``n`` independent paired
    0/1 outcomes when the two models disagree with probability ``discordance`` and the true
    difference of their accuracies is ``delta`` (so a disagreement favours the better model
    with probability ½ + delta / (2·discordance)). The number of disagreements is itself
    Binomial(n, discordance), as in a new sample of n examples."""
    delta, discordance = abs(float(delta)), float(discordance)
    if discordance <= 0.0 or n < 1:
        return 0.0
    if delta > discordance:
        raise ValueError("|delta| cannot exceed the discordance")
    q = 0.5 + delta / (2.0 * discordance)
    lo = int(max(0, binom.ppf(1e-13, n, discordance)))
    hi = int(binom.isf(1e-13, n, discordance)) if discordance < 1.0 else n
    d = np.arange(lo, min(n, hi) + 1, dtype=np.float64)
    c = _mcnemar_critical(d, alpha)
    reject = np.where(c >= 0, binom.cdf(c, d, q) + binom.sf(d - c - 1.0, d, q), 0.0)
    return float(np.sum(binom.pmf(d, n, discordance) * reject))


def mcnemar_mde(n: int, discordance: float, alpha: float = 0.05, power: float = DEFAULT_POWER) -> float:
    """Smallest |Δ| of two accuracies that the exact McNemar test (the test dabench uses for
    0/1 outcomes) detects with probability ``power`` on ``n`` examples.

    The disagreement rate is the observed one, but never below |Δ| (a difference of Δ needs at
    least that many disagreements): with no observed disagreement this is the effect that the
    fewest possible disagreements, all one way, would reveal. ``inf`` when no effect is
    detectable with ``n`` examples (e.g. n = 5: two-sided p ≥ 2/2⁵ > 0.05)."""
    if n < 1:
        return float("inf")
    base = max(0.0, min(1.0, float(discordance)))

    def achieved(delta: float) -> float:
        return mcnemar_power(delta, n, max(base, delta), alpha)

    if achieved(1.0) < power:
        return float("inf")
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if achieved(mid) >= power:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-9:
            break
    return hi
