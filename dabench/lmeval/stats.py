"""The full dabench statistics on paired lm-eval per-sample results.

Every lm-eval metric that is a mean of per-sample values becomes a dabench metric with statistics
(value, 1) (McNemar applies to 0/1 values); each (task, filter) is tested as native tasks are.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from dabench.comparison import DISAGREEMENTS_KEPT, TaskResult
from dabench.example_rows import disagreements, example_row
from dabench.lmeval.pairing import PairedTask
from dabench.metrics.base import Metric, Values, safe_divide
from dabench.stats import paired_test

DEFAULT_CATEGORY = "knowledge"


class MeanMetric(Metric):
    """The mean of a per-sample value. Statistics: (value, 1)."""

    k = 2

    def __init__(self, name: str, *, higher_is_better: bool = True, binary: bool = False) -> None:
        self.name = name
        self.higher_is_better = higher_is_better
        self.binary_outcome = binary

    def stats(self, predictions: Values, references: Values = ()) -> np.ndarray:
        v = np.asarray(predictions, dtype=np.float64)
        return np.stack([v, np.ones_like(v)], axis=1)

    def score_from_stats(self, summed: np.ndarray) -> np.ndarray:
        summed = np.asarray(summed, dtype=np.float64)
        return safe_divide(summed[..., 0], summed[..., 1])

    def per_example(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 0]


def task_result(p: PairedTask, *, categories: Mapping[str, str], resamples: int, seed: int, alpha: float,
                margin: float | None) -> tuple[TaskResult, Any]:
    """The TaskResult (p_adjusted and verdict filled later) and PairedResult of one paired task
    (its category: ``categories``' by lm-eval or dabench task name, else knowledge)."""
    head = p.metrics[0]
    b, a = p.base[head], p.adapted[head]
    metric = MeanMetric(head, higher_is_better=p.higher_is_better.get(head, True),
                        binary=bool(np.isin(np.concatenate([b, a]), (0.0, 1.0)).all()))
    res = paired_test(metric, metric.stats(b), metric.stats(a), resamples=resamples, seed=seed, alpha=alpha,
                      margin=margin)
    secondary = {}
    for m in p.metrics[1:]:
        sb, sa = float(p.base[m].mean()), float(p.adapted[m].mean())
        secondary[m] = {"base": sb, "adapted": sa, "delta": sa - sb}
    result = TaskResult.from_paired(
        res, task=f"lmeval:{p.task}", category=categories.get(p.lm_task, categories.get(p.task, DEFAULT_CATEGORY)),
        metric=head, n=len(p.doc_ids), secondary=secondary, templates={"base": "lm-eval", "adapted": "lm-eval"},
    )
    result.examples = [example_row(str(d), _short(p.docs.get(d)), "", f"{head}={b[i]:g}", f"{head}={a[i]:g}",
                                   base_score=float(b[i]), adapted_score=float(a[i])) for i, d in enumerate(p.doc_ids)]
    result.disagreements = disagreements(result.examples, list(b != a), DISAGREEMENTS_KEPT)
    return result, res


def _short(doc: Any, limit: int = 300) -> str:
    if doc is None:
        return ""
    text = (" | ".join(str(v) for v in doc.values() if isinstance(v, (str, int, float)))
            if isinstance(doc, Mapping) else str(doc))
    return text if len(text) <= limit else text[: limit - 1] + "…"
