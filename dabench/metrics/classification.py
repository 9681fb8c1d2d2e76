"""Classification metrics over a fixed label vocabulary.

Predictions and references are integer label indices into the task's label list (never
inferred from the data, so a class absent from a resample still counts as a class).

A prediction may be *missing* (``None`` or :data:`MISSING`, i.e. -1): a model that gave no
answer, or one that could not be read. A missing prediction is always wrong and never a
class: it is a false negative of its reference class and a false positive of no class, so
per-class averages stay over the task's K classes. References are never missing.

Confusion-based metrics keep K×(K+1) confusion cells as statistics (k = K·(K+1)), row-major
``cell = reference * (K + 1) + prediction``, where prediction column K holds the missing
predictions. Each metric equals sklearn's with a sentinel label (-1) in the predictions that
never occurs in the references: ``f1_score(..., labels=range(K))`` and ``matthews_corrcoef``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dabench.metrics.base import MeanOfExamples, Metric, Values, safe_divide

#: label index of a missing prediction (what ``None`` becomes)
MISSING = -1


def prediction_indices(values: Values, n_labels: int | None) -> np.ndarray:
    """Prediction label indices as int64, ``None`` -> :data:`MISSING`.

    Raises ValueError for an index outside ``[0, n_labels)`` other than MISSING (with
    ``n_labels=None`` only negative indices other than MISSING are refused)."""
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.array([MISSING if v is None else v for v in arr.reshape(-1)], dtype=np.int64)
    arr = np.asarray(arr, dtype=np.int64).reshape(-1)
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < MISSING or (n_labels is not None and hi >= n_labels):
            bound = f"[0, {n_labels})" if n_labels is not None else "[0, ...)"
            raise ValueError(f"prediction label index out of range {bound} (and not {MISSING}, the missing prediction)")
    return arr


def reference_indices(values: Values, n_labels: int | None) -> np.ndarray:
    """Reference label indices as int64; a reference is never missing."""
    arr = np.asarray(values)
    if arr.dtype == object and any(v is None for v in arr.reshape(-1)):
        raise ValueError("a reference label is missing (None); every example needs a reference")
    arr = np.asarray(arr, dtype=np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or (n_labels is not None and arr.max() >= n_labels)):
        raise ValueError(f"reference label index out of range [0, {n_labels if n_labels is not None else '...'})")
    return arr


def _aligned(predictions: Values, references: Values, n_labels: int | None) -> tuple[np.ndarray, np.ndarray]:
    p = prediction_indices(predictions, n_labels)
    r = reference_indices(references, n_labels)
    if p.shape != r.shape:
        raise ValueError("predictions and references differ in length")
    return p, r


class Accuracy(MeanOfExamples):
    """Fraction of exact label matches (a missing prediction is wrong). Statistics: (correct, 1)."""

    name = "accuracy"
    binary_outcome = True

    def __init__(self, n_labels: int | None = None) -> None:
        self.n_labels = n_labels

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        p, r = _aligned(predictions, references, self.n_labels)
        out = np.ones((p.shape[0], 2), dtype=np.float64)
        out[:, 0] = p == r  # MISSING never equals a reference
        return out


class _ConfusionMetric(Metric):
    """Base for metrics computed from a K×(K+1) confusion matrix (the last column: missing)."""

    def __init__(self, n_labels: int) -> None:
        if n_labels < 2:
            raise ValueError("a classification metric needs at least 2 labels")
        self.n_labels = n_labels
        self.k = n_labels * (n_labels + 1)

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        K = self.n_labels
        p, r = _aligned(predictions, references, K)
        col = np.where(p == MISSING, K, p)
        out = np.zeros((p.shape[0], self.k), dtype=np.float64)
        out[np.arange(p.shape[0]), r * (K + 1) + col] = 1.0
        return out

    def _confusion(self, summed: np.ndarray) -> np.ndarray:
        """``(..., K, K+1)``: reference rows, prediction columns, missing last."""
        K = self.n_labels
        summed = np.asarray(summed, dtype=np.float64)
        return summed.reshape(summed.shape[:-1] + (K, K + 1))

    def _tp_fp_fn(self, summed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cm = self._confusion(summed)  # (..., ref, pred)
        classes = cm[..., :, : self.n_labels]  # the K×K part: predictions that name a class
        tp = np.diagonal(classes, axis1=-2, axis2=-1)
        fp = classes.sum(axis=-2) - tp  # predicted as c, reference other
        fn = cm.sum(axis=-1) - tp  # reference c, predicted other or missing
        return tp, fp, fn


class MacroF1(_ConfusionMetric):
    """Unweighted mean of per-class F1 over the task's full label vocabulary
    (sklearn ``f1_score(average='macro', labels=all_labels, zero_division=0)``)."""

    name = "macro_f1"

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        tp, fp, fn = self._tp_fp_fn(summed)
        f1 = safe_divide(2 * tp, 2 * tp + fp + fn)
        return f1.mean(axis=-1)


class MicroF1(_ConfusionMetric):
    """Micro-averaged F1 over the labels listed in ``include`` (all labels by default;
    with every label included and no missing prediction it equals accuracy)."""

    name = "micro_f1"

    def __init__(self, n_labels: int, include: Sequence[int] | None = None) -> None:
        super().__init__(n_labels)
        self.include = np.arange(n_labels) if include is None else np.asarray(include)

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        tp, fp, fn = self._tp_fp_fn(summed)
        tp, fp, fn = (x[..., self.include].sum(axis=-1) for x in (tp, fp, fn))
        return safe_divide(2 * tp, 2 * tp + fp + fn)


class BinaryF1(_ConfusionMetric):
    """F1 of the positive class (index ``positive``, default 1), as GLUE scores MRPC/QQP."""

    name = "f1"

    def __init__(self, n_labels: int = 2, positive: int = 1) -> None:
        super().__init__(n_labels)
        self.positive = positive

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        tp, fp, fn = self._tp_fp_fn(summed)
        c = self.positive
        return safe_divide(2 * tp[..., c], 2 * tp[..., c] + fp[..., c] + fn[..., c])


class MatthewsCorrCoef(_ConfusionMetric):
    """Multiclass Matthews correlation (sklearn ``matthews_corrcoef``), GLUE's CoLA metric.

    The missing column acts as one more predicted class that no reference has, so it never
    matches (sklearn's value with a sentinel prediction label)."""

    name = "mcc"

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        cm = self._confusion(summed)
        K = self.n_labels
        t = cm.sum(axis=-1)  # true counts per class (K)
        p = cm.sum(axis=-2)  # predicted counts per class, missing last (K + 1)
        c = np.trace(cm[..., :, :K], axis1=-2, axis2=-1)
        s = cm.sum(axis=(-2, -1))
        cov_ytyp = c * s - (t * p[..., :K]).sum(axis=-1)  # no reference is missing: t is 0 there
        cov_ypyp = s * s - (p * p).sum(axis=-1)
        cov_ytyt = s * s - (t * t).sum(axis=-1)
        den = np.sqrt(cov_ytyt * cov_ypyp)
        return safe_divide(cov_ytyp, den)
