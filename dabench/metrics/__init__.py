"""Metrics as per-example sufficient statistics (see :mod:`dabench.metrics.base`).

``METRICS`` maps a registry name to a factory ``factory(labels, **options) -> Metric``; tasks
name their metrics by these names and pass options through ``metric_options`` (``rank_keys``
for KILT retrieval metrics). ``precision@k``, ``recall@k`` and ``success_rate@k`` accept any
positive k.

To score a model's predictions on a task: :func:`task_metric` / :func:`task_metrics` build its
metrics, :func:`metric_inputs` converts predictions and examples into one metric's inputs,
:func:`example_stats` gives per-example statistics (what the paired tests resample),
:func:`score_predictions` each metric's value, and :func:`count_missing` counts the
predictions scored as missing (always wrong, never a class; see :mod:`dabench.metrics.inputs`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from dabench.data.example import Example
from dabench.errors import TaskError
from dabench.metrics.base import Metric
from dabench.metrics.classification import (
    Accuracy,
    BinaryF1,
    MacroF1,
    MatthewsCorrCoef,
    MicroF1,
)
from dabench.metrics.inputs import applicable, count_missing, metric_inputs
from dabench.metrics.kilt import (
    KiltAccuracy,
    KiltEM,
    KiltF1,
    KiltRougeL,
    PrecisionAtK,
    RecallAtK,
    RPrecision,
    SuccessRateAtK,
)
from dabench.metrics.regression import Pearson, Spearman
from dabench.metrics.text import AnswerAccuracy, ExactMatch, RougeL, TokenF1
from dabench.taskspec import TaskSpec

MetricFactory = Callable[..., Metric]

_AT_K = {"precision": PrecisionAtK, "recall": RecallAtK, "success_rate": SuccessRateAtK}
_AT_K_NAME = re.compile(r"^(precision|recall|success_rate)@([1-9][0-9]*)$")


def _at_k(kind: str, k: int) -> MetricFactory:
    return lambda labels, rank_keys=None, **_: _AT_K[kind](k, rank_keys)


METRICS: dict[str, MetricFactory] = {
    # classification (label indices)
    "accuracy": lambda labels, **_: Accuracy(len(labels) or None),  # no label list: any indices
    "macro_f1": lambda labels, **_: MacroF1(len(labels)),
    "micro_f1": lambda labels, **_: MicroF1(len(labels)),
    "f1": lambda labels, **_: BinaryF1(len(labels)),
    "mcc": lambda labels, **_: MatthewsCorrCoef(len(labels)),
    # regression
    "pearson": lambda labels, center=0.0, **_: Pearson(center),
    "spearman": lambda labels, **_: Spearman(),
    # answer strings (KILT downstream)
    "answer_accuracy": lambda labels, **_: AnswerAccuracy(),
    "em": lambda labels, **_: ExactMatch(),
    "token_f1": lambda labels, **_: TokenF1(),
    "rougel": lambda labels, **_: RougeL(),
    # KILT provenance and KILT-scores
    "rprec": lambda labels, rank_keys=None, **_: RPrecision(rank_keys),
    "kilt_accuracy": lambda labels, **_: KiltAccuracy(),
    "kilt_em": lambda labels, **_: KiltEM(),
    "kilt_f1": lambda labels, **_: KiltF1(),
    "kilt_rougel": lambda labels, **_: KiltRougeL(),
}
for _kind in _AT_K:
    for _k in (1, 5, 10, 20):
        METRICS[f"{_kind}@{_k}"] = _at_k(_kind, _k)


def get_metric(name: str, labels: Sequence[str] = (), **options: Any) -> Metric:
    """The metric registered as ``name``, built for the task's label list and options."""
    factory = METRICS.get(name)
    if factory is None:
        m = _AT_K_NAME.match(name)
        if m is None:
            known = ", ".join(sorted(METRICS))
            raise TaskError(f"unknown metric {name!r}; known metrics: {known} (and precision/recall/success_rate@k)")
        factory = _at_k(m.group(1), int(m.group(2)))
    return factory(list(labels), **options)


def metric_options(spec: TaskSpec) -> dict[str, Any]:
    """Options a task passes to its metrics (``metric_options`` plus Pearson's centre, the
    midpoint of ``score_range``)."""
    opts = dict(spec.metric_options)
    if spec.score_range is not None and "center" not in opts:
        opts["center"] = (spec.score_range[0] + spec.score_range[1]) / 2.0
    return opts


def task_metric(spec: TaskSpec, name: str) -> Metric:
    """Metric ``name`` built for ``spec`` (labels and options)."""
    return get_metric(name, spec.labels, **metric_options(spec))


def task_metrics(spec: TaskSpec) -> dict[str, Metric]:
    """The task's headline metric and its secondary metrics, in that order."""
    names = [spec.metric] + [m for m in spec.secondary_metrics if m != spec.metric]
    return {n: task_metric(spec, n) for n in names}


def example_stats(
    spec: TaskSpec, examples: Sequence[Example], predictions: Sequence[Any], names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Per-example statistics ``(n, k)`` of each named metric (default: all the task's
    metrics that apply to these predictions)."""
    metrics = task_metrics(spec) if names is None else {n: task_metric(spec, n) for n in names}
    out = {}
    for name, metric in metrics.items():
        if names is None and applicable(metric, predictions) is not None:
            continue
        preds, refs = metric_inputs(spec, metric, examples, predictions)
        out[name] = metric.stats(preds, refs)
    return out


def score_predictions(
    spec: TaskSpec, examples: Sequence[Example], predictions: Sequence[Any]
) -> tuple[dict[str, float], dict[str, str]]:
    """Each of the task's metrics on the predictions, and the metrics skipped with the
    reason (provenance metrics when no prediction carries provenance, answer metrics when
    a KILT guess file holds provenance only)."""
    scores: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for name, metric in task_metrics(spec).items():
        why = applicable(metric, predictions)
        if why is not None:
            skipped[name] = why
            continue
        preds, refs = metric_inputs(spec, metric, examples, predictions)
        scores[name] = float(metric.score(preds, refs))
    return scores, skipped


__all__ = [
    "METRICS",
    "Metric",
    "Accuracy",
    "AnswerAccuracy",
    "BinaryF1",
    "ExactMatch",
    "KiltAccuracy",
    "KiltEM",
    "KiltF1",
    "KiltRougeL",
    "MacroF1",
    "MicroF1",
    "MatthewsCorrCoef",
    "Pearson",
    "PrecisionAtK",
    "RPrecision",
    "RecallAtK",
    "RougeL",
    "Spearman",
    "SuccessRateAtK",
    "TokenF1",
    "count_missing",
    "example_stats",
    "get_metric",
    "metric_inputs",
    "metric_options",
    "score_predictions",
    "task_metric",
    "task_metrics",
]
