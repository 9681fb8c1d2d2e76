"""Intrinsic metrics as per-document sufficient statistics.

Each document contributes ``(nll, units)``: its summed negative log-likelihood (nats) and the
number of units it was scored on (tokens, or UTF-8 bytes). Summed over documents these give
the corpus-level value, so resampling documents (:mod:`dabench.stats`) needs no model code.

The headline metric is :class:`NegLogPerplexity`, ``−Σ nll / Σ units`` = −log(perplexity):
higher is better, like every other dabench metric, so verdicts, the CI gate, margins and
renderers work unchanged; Δ = adapted − base = log(ppl_base / ppl_adapted) is a relative
change (Δ = 0.05: the adapted perplexity is e^−0.05 = 0.95× the base's; a gate margin
``M = 0.02`` allows a 2% perplexity increase). :class:`Perplexity` (lower is better) is a
secondary metric for reading.
"""

from __future__ import annotations

import numpy as np

from dabench.metrics.base import Metric, Values, safe_divide


class _DocumentMetric(Metric):
    """Statistics are the per-document ``(nll, units)`` rows themselves; there are no references."""

    k = 2

    def stats(self, predictions: Values, references: Values | None = None) -> np.ndarray:
        arr = np.asarray(predictions, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError("intrinsic statistics must be (n, 2) rows of (nll, units)")
        if (arr[:, 1] <= 0).any():
            raise ValueError("every document needs at least one scored unit")
        return arr

    def score(self, predictions: Values, references: Values | None = None) -> float:
        return float(self.score_from_stats(self.stats(predictions).sum(axis=0)))


class NegLogPerplexity(_DocumentMetric):
    """−log perplexity = −Σ nll / Σ units (nats per unit, negated). Statistics: (nll, units)."""

    name = "neg_log_ppl"
    higher_is_better = True

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        summed = np.asarray(summed, dtype=np.float64)
        return -safe_divide(summed[..., 0], summed[..., 1])


class Perplexity(_DocumentMetric):
    """exp(Σ nll / Σ units); lower is better. Statistics: (nll, units)."""

    name = "perplexity"
    higher_is_better = False

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        summed = np.asarray(summed, dtype=np.float64)
        return np.exp(safe_divide(summed[..., 0], summed[..., 1]))


INTRINSIC_METRICS = {"neg_log_ppl": NegLogPerplexity, "perplexity": Perplexity}
