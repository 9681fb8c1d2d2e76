"""Turn a task's examples and a model's predictions into each metric's inputs.

By ``Metric.input_kind`` a metric takes label indices into ``spec.labels`` (``label``), real
numbers (``score``), an answer string against the example's gold answers (``text``), or a
``{"answer", "provenance"}`` guess against the gold record's raw KILT ``output`` list (``kilt``).
:func:`metric_inputs` converts predictions given as label indices, label values or answers,
numbers, or KILT guess mappings, so the compare pipeline and ``dabench score`` share one path.

A *missing* prediction (``None``, a blank string, a KILT guess without an answer, or the label
index -1) is a model that gave no answer: always wrong, never a class (label metrics get
:data:`~dabench.metrics.classification.MISSING`, answer metrics the empty string); a
correlation cannot score it as wrong, so there it is refused. :func:`count_missing` counts
them. A prediction that is present but unreadable (an unknown label, an out-of-range index, a
non-number for a regression task) is bad input, not a model failure: it raises
:class:`~dabench.errors.DataError` naming the example.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Mapping, Sequence

import numpy as np

from dabench.data.example import Example
from dabench.errors import DataError, TaskError
from dabench.metrics.base import Metric
from dabench.metrics.classification import MISSING
from dabench.taskspec import TaskSpec


def _answer_of(pred: Any) -> Any:
    return pred.get("answer") if isinstance(pred, Mapping) else pred


def has_answer(pred: Any) -> bool:
    """True when a prediction carries an answer (a KILT guess may hold provenance only)."""
    return _answer_of(pred) is not None


def has_provenance(pred: Any) -> bool:
    """True when a prediction carries a provenance list."""
    return isinstance(pred, Mapping) and pred.get("provenance") is not None


def is_missing(pred: Any) -> bool:
    """True when a prediction carries no answer: ``None``, a blank string, or a KILT guess
    whose answer is either (the model answered nothing, or nothing could be extracted)."""
    value = _answer_of(pred)
    return value is None or (isinstance(value, str) and not value.strip())


def _is_missing_index(pred: Any) -> bool:
    value = _answer_of(pred)
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_)) and int(value) == MISSING


def _reads_answer(metric: Metric) -> bool:
    """True when ``metric`` scores the answer (not only the provenance) of a prediction."""
    kind = metric.input_kind
    return kind in ("label", "score", "text") or metric.name.startswith("kilt_")


def count_missing(metric: Metric, predictions: Sequence[Any]) -> int:
    """How many ``predictions`` ``metric`` scores as missing (always wrong): no answer for
    an answer metric (for a label metric also the index -1), no provenance for a
    provenance-only metric (R-precision, recall@k)."""
    if not _reads_answer(metric):
        return sum(1 for p in predictions if not has_provenance(p))
    label = metric.input_kind == "label"
    return sum(1 for p in predictions if is_missing(p) or (label and _is_missing_index(p)))


def label_index(spec: TaskSpec, pred: Any, example_id: str = "?") -> int:
    """The index into ``spec.labels`` of a prediction given as an index or a label value;
    :data:`MISSING` for a missing prediction (see :func:`is_missing`; the index -1 too)."""
    if is_missing(pred) or _is_missing_index(pred):
        return MISSING
    value = _answer_of(pred)
    if isinstance(value, Integral) and not isinstance(value, (bool, np.bool_)):
        i = int(value)
        if not 0 <= i < len(spec.labels):
            raise DataError(f"example {example_id!r}: label index {i} out of range for task {spec.name!r} "
                            f"({len(spec.labels)} labels)")
        return i
    if isinstance(value, str):
        text = value.strip()
        try:
            return spec.labels.index(text)
        except ValueError:
            allowed = ", ".join(spec.labels)
            raise DataError(f"example {example_id!r}: unknown label {value!r} for task {spec.name!r}; "
                            f"labels: {allowed}") from None
    raise DataError(f"example {example_id!r}: prediction {value!r} is not a label of task {spec.name!r}")


def reference_index(spec: TaskSpec, label: Any, example_id: str = "?") -> int:
    """The index into ``spec.labels`` of an example's gold label; a reference is never missing."""
    if is_missing(label):
        raise DataError(f"example {example_id!r}: no gold label (a test file without labels?)")
    i = label_index(spec, label, example_id)
    if i == MISSING:
        raise DataError(f"example {example_id!r}: gold label {label!r} is not a label of task {spec.name!r}")
    return i


def finite_float(value: Any, where: str) -> float:
    """``value`` (a number or its text) as a finite float; else a DataError ``{where}{value!r} is not a number``."""
    if isinstance(value, (Real, str)) and not isinstance(value, (bool, np.bool_)):
        try:
            x = float(value)
        except ValueError:
            raise DataError(f"{where}{value!r} is not a number") from None
        if not math.isfinite(x):
            raise DataError(f"{where}{value!r} is not a finite number")
        return x
    raise DataError(f"{where}{value!r} is not a number")


def score_value(pred: Any, example_id: str = "?") -> float:
    """A prediction of a regression task as a finite float."""
    return finite_float(_answer_of(pred), f"example {example_id!r}: prediction ")


def answer_text(spec: TaskSpec, pred: Any) -> str:
    """A prediction as an answer string (a label index becomes the label value)."""
    value = _answer_of(pred)
    if value is None:
        return ""
    if spec.type == "classification" and isinstance(value, Integral) and not isinstance(value, bool):
        return spec.labels[int(value)] if 0 <= int(value) < len(spec.labels) else str(value)
    return value if isinstance(value, str) else str(value)


def gold_answers(spec: TaskSpec, example: Example) -> tuple[str, ...]:
    """The gold answers of an example: its ``answers``, else its label value."""
    if example.answers:
        return example.answers
    return () if example.label is None else (example.label,)


def metric_inputs(
    spec: TaskSpec, metric: Metric, examples: Sequence[Example], predictions: Sequence[Any]
) -> tuple[list, list]:
    """(predictions, references) in the form ``metric.stats`` takes, aligned with ``examples``."""
    if len(predictions) != len(examples):
        raise DataError(f"task {spec.name!r}: {len(predictions)} predictions for {len(examples)} examples")
    kind = metric.input_kind
    if kind == "label":
        labels: list[Any] = [label_index(spec, p, ex.id) for p, ex in zip(predictions, examples)]
        label_refs: list[Any] = [reference_index(spec, ex.label, ex.id) for ex in examples]
        return labels, label_refs
    if kind == "score":
        refuse_missing_scores(metric, predictions, [ex.id for ex in examples], f"task {spec.name!r}")
        values: list[Any] = [score_value(p, ex.id) for p, ex in zip(predictions, examples)]
        value_refs: list[Any] = [score_value(ex.label, ex.id) for ex in examples]
        return values, value_refs
    if kind == "text":
        refs: list[Any] = []
        for ex in examples:
            golds = gold_answers(spec, ex)
            if not golds:
                raise DataError(f"task {spec.name!r}: example {ex.id!r} has no gold answer (a test file without answers?)")
            refs.append(golds)
        return [answer_text(spec, p) for p in predictions], refs
    if kind == "kilt":
        refs = []
        for ex in examples:
            output = ex.extra.get("output")
            if output is None:
                raise DataError(f"task {spec.name!r}: metric {metric.name!r} needs KILT gold records (provenance); "
                                f"example {ex.id!r} has none")
            refs.append(output)
        guesses: list[Any] = [{"answer": answer_text(spec, p) if has_answer(p) else None,
                               "provenance": p.get("provenance") if isinstance(p, Mapping) else None}
                              for p in predictions]
        return guesses, refs
    raise TaskError(f"metric {metric.name!r} has an unknown input kind {kind!r}")


def refuse_missing_scores(metric: Metric, predictions: Sequence[Any], ids: Sequence[Any], where: str) -> None:
    """Raise one DataError line when a correlation metric gets missing predictions: a
    correlation has no "wrong" to score them as, and dropping them would compare the two
    models on different examples."""
    missing = [i for i, p in zip(ids, predictions) if is_missing(p)]
    if missing:
        raise DataError(f"{where}: {len(missing)} of {len(predictions)} predictions are missing (first: example "
                        f"{missing[0]!r}); metric {metric.name!r} is a correlation and cannot score a missing "
                        "prediction as wrong; give every example a number")


def applicable(metric: Metric, predictions: Sequence[Any]) -> str | None:
    """Why ``metric`` cannot score these predictions (None when it can): provenance
    metrics need provenance; answer metrics need answers."""
    if metric.requires_provenance and not any(has_provenance(p) for p in predictions):
        return "no prediction carries provenance"
    if _reads_answer(metric) and not any(has_answer(p) for p in predictions):
        return "no prediction carries an answer"
    return None
