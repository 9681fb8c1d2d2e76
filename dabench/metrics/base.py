"""The metric contract: per-example sufficient statistics plus a vectorised score.

A metric turns n aligned (prediction, reference) pairs into ``(n, k)`` float per-example
statistics and maps *summed* statistics ``(..., k)`` to scores ``(...)``, so a resample is
scored by weighting rows with its counts: no Python loop or sklearn call per resample. The
statistics carry the number of examples, so cluster resamples of varying size score correctly.
Metrics that are not a function of summed statistics (Spearman) set ``decomposable = False``
and implement :meth:`Metric.score_resamples` instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence, TypeAlias

import numpy as np

Values: TypeAlias = Sequence[Any] | np.ndarray
"""Per-example predictions or references, aligned: a sequence, or a one-dimensional array."""


class Metric(ABC):
    """A headline or secondary metric of a task."""

    #: registry name, e.g. ``"macro_f1"``
    name: str = ""
    #: number of statistics per example
    k: int = 1
    #: True when the score is a function of summed per-example statistics
    decomposable: bool = True
    #: True when larger is better (all current metrics)
    higher_is_better: bool = True
    #: True when per-example values are 0/1 outcomes (McNemar applies)
    binary_outcome: bool = False
    #: what :func:`~dabench.metrics.inputs.metric_inputs` gives it: "label", "score", "text" or "kilt"
    input_kind: str = "label"
    #: True when predictions must carry provenance (KILT metrics)
    requires_provenance: bool = False

    @abstractmethod
    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        """Per-example sufficient statistics, shape ``(n, k)``, dtype float64."""

    @abstractmethod
    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        """Scores from statistics summed over examples: ``(..., k) -> (...)``."""

    def score(self, predictions: Values, references: Values) -> float:
        """The metric on the whole set."""
        return float(self.score_from_stats(self.condition(self.stats(predictions, references)).sum(axis=0)))

    def condition(self, stats: np.ndarray) -> np.ndarray:
        """Statistics equivalent to ``stats`` (the same score on every resample of these
        examples) that sum with less rounding; the paired tests call it once per model on the
        examples they compare. The default returns ``stats`` unchanged; Pearson re-centres its
        moments on the data's means. Must be deterministic: equal inputs, equal outputs."""
        return stats

    def score_resamples(self, stats: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Scores of resamples given as per-example counts ``(B, n)``: ``-> (B,)``.

        The default sums statistics with the counts as weights; non-decomposable
        metrics override it.
        """
        return self.score_from_stats(counts @ stats)

    def per_example(self, stats: np.ndarray) -> np.ndarray | None:
        """A scalar value per example when the metric is a mean of one (accuracy, EM),
        else None. Used for sign-flip tests and disagreement samples."""
        return None


class MeanOfExamples(Metric):
    """A mean over examples of a per-example value (accuracy, EM, R-precision). Statistics: (value, 1)."""

    k = 2

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        summed = np.asarray(summed, dtype=np.float64)
        return safe_divide(summed[..., 0], summed[..., 1])

    def example_value(self, i: int, prediction: Any, reference: Any) -> float:
        """The value of example ``i``: what :meth:`stats` computes row by row unless overridden."""
        raise NotImplementedError

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        if len(predictions) != len(references):
            raise ValueError("predictions and references differ in length")
        out = np.ones((len(predictions), 2), dtype=np.float64)
        for i, (pred, ref) in enumerate(zip(predictions, references)):
            out[i, 0] = self.example_value(i, pred, ref)
        return out

    def per_example(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 0]


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (sklearn's ``zero_division=0``)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out
