"""Correlation metrics of regression tasks (GLUE STS-B): Pearson and Spearman.

Predictions and references are real numbers. Pearson is a function of summed statistics
``(x, y, x², y², xy, 1)`` (x = prediction, y = reference, both shifted by a fixed
``center`` chosen from the task's score range so the sums stay well conditioned; a constant
shift leaves the correlation unchanged and keeps statistics from separate calls summable).
Spearman is not: ranks change with every resample, so it overrides
:meth:`~dabench.metrics.base.Metric.score_resamples` and re-ranks each resample with
average ranks for ties, exactly as ``scipy.stats.spearmanr`` would on the resampled data
with each example repeated as often as it was drawn — vectorised over resamples.

A correlation that is undefined (a constant side) scores 0, as the classification metrics
do with ``zero_division=0``; scipy returns NaN there.
"""

from __future__ import annotations

import numpy as np

from dabench.metrics.base import Metric, Values

#: resamples re-ranked at once by Spearman (bounds memory at about CHUNK × n × 8 bytes × 6)
CHUNK = 512


def _as_values(values: Values, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} values must be finite numbers")
    return arr


def _pair(predictions: Values, references: Values) -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_values(predictions, "prediction"), _as_values(references, "reference")
    if x.shape != y.shape:
        raise ValueError("predictions and references differ in length")
    return x, y


def _correlation(cov: np.ndarray, vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    den = np.sqrt(np.clip(vx, 0, None) * np.clip(vy, 0, None))
    out = np.zeros(np.broadcast(cov, den).shape, dtype=np.float64)
    np.divide(cov, den, out=out, where=den > 0)
    return np.clip(out, -1.0, 1.0)


class Pearson(Metric):
    """Pearson's r (``scipy.stats.pearsonr``). Statistics: (x, y, x², y², xy, 1)."""

    name = "pearson"
    k = 6
    input_kind = "score"

    def __init__(self, center: float = 0.0) -> None:
        self.center = float(center)

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        x, y = (v - self.center for v in _pair(predictions, references))
        return np.stack([x, y, x * x, y * y, x * y, np.ones_like(x)], axis=1)

    def condition(self, stats: np.ndarray) -> np.ndarray:
        """The moments re-centred on the means of x and y over these examples.

        Raw moments cancel catastrophically when |mean| ≫ sd (n·Σx² − (Σx)² at 2000 ± 1 keeps
        about 9 of 16 digits; at 1e4 ± 0.01 about 3). Centred moments are recomputed from the
        shifted values themselves (x − x̄ rounds once, as in ``scipy.stats.pearsonr``), so the
        sums stay well conditioned on the full data and on every resample, whose means differ
        from x̄ by about sd/√n. A constant shift leaves every resample's correlation unchanged."""
        s = np.asarray(stats, dtype=np.float64)
        if s.ndim != 2 or s.shape[0] == 0 or not np.all(s[:, 5] == 1.0):
            return s  # summed rows (clusters) or nothing: left as given
        x = s[:, 0] - float(np.mean(s[:, 0]))
        y = s[:, 1] - float(np.mean(s[:, 1]))
        return np.stack([x, y, x * x, y * y, x * y, s[:, 5]], axis=1)

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        s = np.asarray(summed, dtype=np.float64)
        sx, sy, sxx, syy, sxy, n = (s[..., i] for i in range(6))
        cov = n * sxy - sx * sy
        vx = n * sxx - sx * sx
        vy = n * syy - sy * sy
        return _correlation(cov, vx, vy)


def weighted_average_ranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of each example within each resample.

    ``values``: (n,); ``counts``: (B, n) times each example was drawn. Returns (B, n): the
    rank example i's value has in resample b (meaningless where ``counts[b, i] == 0``).
    """
    order = np.argsort(values, kind="stable")
    sv = values[order]
    new_group = np.r_[True, sv[1:] != sv[:-1]] if sv.size else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(new_group)
    group_of_sorted = np.cumsum(new_group) - 1
    c_sorted = counts[:, order]
    g = np.add.reduceat(c_sorted, starts, axis=1)
    before = np.cumsum(g, axis=1) - g
    group_rank = before + (g + 1.0) / 2.0
    ranks = np.empty_like(c_sorted, dtype=np.float64)
    ranks[:, order] = group_rank[:, group_of_sorted]
    return ranks


class Spearman(Metric):
    """Spearman's rho (``scipy.stats.spearmanr``), re-ranked in every resample.
    Statistics: (x, y) per example; not decomposable."""

    name = "spearman"
    k = 2
    decomposable = False
    input_kind = "score"

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        return np.stack(_pair(predictions, references), axis=1)

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        raise TypeError("Spearman is not a function of summed statistics; use score() or score_resamples()")

    def score(self, predictions: Values, references: Values) -> float:
        st = self.stats(predictions, references)
        return float(self.score_resamples(st, np.ones((1, st.shape[0])))[0])

    def score_resamples(self, stats: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """rho of each resample given per-example draw counts ``(B, n)`` -> ``(B,)``."""
        stats = np.asarray(stats, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[1] != stats.shape[0]:
            raise ValueError("counts must have shape (B, n) with n the number of examples")
        x, y = stats[:, 0], stats[:, 1]
        out = np.empty(counts.shape[0], dtype=np.float64)
        for start in range(0, counts.shape[0], CHUNK):
            c = counts[start:start + CHUNK]
            rx = weighted_average_ranks(x, c)
            ry = weighted_average_ranks(y, c)
            mid = (c.sum(axis=1, keepdims=True) + 1.0) / 2.0
            dx, dy = rx - mid, ry - mid
            cov = (c * dx * dy).sum(axis=1)
            vx = (c * dx * dx).sum(axis=1)
            vy = (c * dy * dy).sum(axis=1)
            out[start:start + CHUNK] = _correlation(cov, vx, vy)
        return out
