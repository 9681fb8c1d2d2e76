"""The full dabench statistics on paired lm-eval per-sample results.

Every lm-eval metric that is a mean of per-sample values becomes a dabench metric with statistics
(value, 1) (McNemar applies to 0/1 values); each (task, filter) is tested as native tasks are.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from dabench._version import __version__
from dabench.comparison import DISAGREEMENTS_KEPT, Comparison, ModelInfo, TaskResult, created_now
from dabench.example_rows import disagreements, example_row
from dabench.lmeval.pairing import PairedTask
from dabench.metrics.base import Metric, Values, safe_divide
from dabench.stats import paired_test
from dabench.verdicts import apply_verdicts

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


def metric_for(p: PairedTask, name: str) -> MeanMetric:
    values = np.concatenate([p.base[name], p.adapted[name]])
    return MeanMetric(name, higher_is_better=p.higher_is_better.get(name, True),
                      binary=bool(np.isin(values, (0.0, 1.0)).all()))


def task_result(p: PairedTask, *, category: str, resamples: int, seed: int, alpha: float,
                margin: float | None) -> tuple[TaskResult, Any]:
    """The TaskResult (p_adjusted and verdict filled later) and PairedResult of one paired task."""
    head = p.metrics[0]
    metric = metric_for(p, head)
    res = paired_test(metric, metric.stats(p.base[head]), metric.stats(p.adapted[head]),
                      resamples=resamples, seed=seed, alpha=alpha, margin=margin)
    secondary = {}
    for m in p.metrics[1:]:
        sb, sa = float(p.base[m].mean()), float(p.adapted[m].mean())
        secondary[m] = {"base": sb, "adapted": sa, "delta": sa - sb}
    result = TaskResult.from_paired(
        res, task=f"lmeval:{p.task}", category=category, metric=head, n=len(p.doc_ids), secondary=secondary,
        templates={"base": "lm-eval", "adapted": "lm-eval"},
    )
    result.examples = [
        example_row(str(d), _short(p.docs.get(d)), "", f"{head}={p.base[head][i]:g}", f"{head}={p.adapted[head][i]:g}",
                    base_score=float(p.base[head][i]), adapted_score=float(p.adapted[head][i]))
        for i, d in enumerate(p.doc_ids)]
    result.disagreements = disagreements(result.examples, list(p.base[head] != p.adapted[head]), DISAGREEMENTS_KEPT)
    return result, res


def _short(doc: Any, limit: int = 300) -> str:
    if doc is None:
        return ""
    text = (" | ".join(str(v) for v in doc.values() if isinstance(v, (str, int, float)))
            if isinstance(doc, Mapping) else str(doc))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def comparison_from_pairs(
    pairs: Sequence[PairedTask],
    base: ModelInfo,
    adapted: ModelInfo,
    *,
    resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    categories: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    signature: Mapping[str, Any] | None = None,
) -> Comparison:
    """A :class:`Comparison` of paired lm-eval results (category per task: ``categories`` or knowledge)."""
    categories = dict(categories or {})
    tested = [task_result(p, category=categories.get(p.lm_task, categories.get(p.task, DEFAULT_CATEGORY)),
                          resamples=resamples, seed=seed, alpha=alpha, margin=margin) for p in pairs]
    results = apply_verdicts(tested, correction=correction, alpha=alpha, margin=margin)
    cfg = {"tasks": [r.task for r in results], "seed": seed, "resamples": resamples, "alpha": alpha,
           "margin": margin, "correction": correction, "source": "lm-eval", **(config or {})}
    sig = {"dabench_version": __version__, "fingerprints": {"base": base.fingerprint, "adapted": adapted.fingerprint},
           "seed": seed, "resamples": resamples, "alpha": alpha, "correction": correction, **(signature or {})}
    return Comparison(base=base, adapted=adapted, config=cfg, tasks=results, signature=sig,
                      dabench_version=__version__, created=created_now())
