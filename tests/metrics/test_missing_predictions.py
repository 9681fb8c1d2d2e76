"""A missing prediction is always wrong and never a class (issue 11).

Classification metrics equal sklearn's with a sentinel label (-1) in the predictions that
no reference has; the inputs layer turns null / blank / answerless predictions into that
marker, counts them, and refuses them for correlations.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from dabench.comparison import Comparison
from dabench.data import read_examples
from dabench.errors import DataError
from dabench.metrics import count_missing, get_metric, metric_inputs, score_predictions, task_metric
from dabench.metrics.classification import MISSING
from dabench.metrics.inputs import is_missing, label_index
from dabench.registry import get_registry
from tests.fake_comparison import three_task_comparison


def _sklearn(name: str, K: int):
    labels = list(range(K))
    return {
        "accuracy": lambda r, p, w=None: accuracy_score(r, p, sample_weight=w),
        "macro_f1": lambda r, p, w=None: f1_score(r, p, labels=labels, average="macro", zero_division=0, sample_weight=w),
        "micro_f1": lambda r, p, w=None: f1_score(r, p, labels=labels, average="micro", zero_division=0, sample_weight=w),
        "f1": lambda r, p, w=None: f1_score(r, p, labels=labels, average=None, zero_division=0, sample_weight=w)[1],
        "mcc": lambda r, p, w=None: matthews_corrcoef(r, p, sample_weight=w),
    }[name]


def _data(seed: int, n: int, K: int, missing: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, K, n)
    pred = np.where(rng.random(n) < 0.6, ref, rng.integers(0, K, n))
    pred = np.where(rng.random(n) < missing, MISSING, pred)
    return ref, pred


NAMES = ["accuracy", "macro_f1", "micro_f1", "f1", "mcc"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("missing", [0.0, 0.15, 0.6])
def test_metrics_equal_sklearn_with_a_sentinel_label(name, K, missing):
    ref, pred = _data(K * 100 + int(missing * 100), 150, K, missing)
    assert (pred == MISSING).any() == (missing > 0)
    m = get_metric(name, [f"l{i}" for i in range(K)])
    skl = _sklearn(name, K)
    assert m.score(pred, ref) == pytest.approx(skl(ref, pred), abs=1e-12)
    # None is the same missing prediction as -1
    as_none = [None if p == MISSING else int(p) for p in pred]
    np.testing.assert_array_equal(m.stats(as_none, ref), m.stats(pred, ref))
    # resamples (counts as weights) too: what the paired tests compute
    counts = np.random.default_rng(K).multinomial(ref.size, np.full(ref.size, 1 / ref.size), size=3).astype(float)
    got = m.score_resamples(m.stats(pred, ref), counts)
    assert got == pytest.approx([skl(ref, pred, w) for w in counts], abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_prediction_is_never_a_class(name):
    """Adding a class for the missing predictions would change a macro average; a sentinel
    that is no task label does not."""
    ref = np.array([0, 1, 1])
    pred = np.array([0, MISSING, 1])
    m = get_metric(name, ["a", "b"])
    assert m.score(pred, ref) == pytest.approx(_sklearn(name, 2)(ref, pred), abs=1e-12)
    assert m.score(pred, ref) < 1.0  # the missing one is wrong
    if name == "macro_f1":
        assert m.score(pred, ref) == pytest.approx((1.0 + 2 / 3) / 2)  # over the 2 task labels, not 3


@pytest.mark.parametrize("name", NAMES)
def test_all_missing_scores_zero(name):
    m = get_metric(name, ["a", "b", "c"])
    assert m.score([None] * 4, [0, 1, 2, 1]) == 0.0


def test_confusion_statistics_are_k_by_k_plus_one():
    m = get_metric("macro_f1", ["a", "b", "c"])
    assert m.k == 3 * 4
    st = m.stats([0, None, 2], [1, 1, 2])
    assert st.shape == (3, 12) and st.sum() == 3
    assert st[1, 1 * 4 + 3] == 1.0  # reference b, missing column


def test_bad_indices_and_missing_references_are_refused():
    m = get_metric("macro_f1", ["a", "b"])
    with pytest.raises(ValueError, match="prediction label index out of range"):
        m.stats([-2, 0], [0, 1])
    with pytest.raises(ValueError, match="prediction label index out of range"):
        m.stats([2, 0], [0, 1])
    with pytest.raises(ValueError, match="reference label is missing"):
        m.stats([0, 1], [None, 1])
    with pytest.raises(ValueError, match="reference label index out of range"):
        get_metric("accuracy", ["a", "b"]).stats([0, 1], [-1, 1])


# ----------------------------------------------------------------------------- inputs


def _examples(shared_data, task, split="validation"):
    spec = get_registry().get(task)
    return spec, read_examples(spec, shared_data / spec.files[split], split)


def test_label_index_reads_missing_predictions_and_refuses_bad_values(shared_data):
    spec, _ = _examples(shared_data, "sst2")
    for pred in (None, "", "  ", {"answer": None, "provenance": []}, {"answer": " "}, -1):
        assert label_index(spec, pred, "x") == MISSING, pred
    assert label_index(spec, " 1 ", "x") == 1
    with pytest.raises(DataError, match=r"example 'x': unknown label 'positve'"):
        label_index(spec, "positve", "x")
    with pytest.raises(DataError, match="label index -2 out of range"):
        label_index(spec, -2, "x")
    assert is_missing(None) and is_missing("\t") and not is_missing("0") and not is_missing(0)


def test_score_predictions_scores_missing_labels_as_wrong(shared_data):
    spec, examples = _examples(shared_data, "chemprot", "test")
    K = len(spec.labels)
    rng = np.random.default_rng(4)
    gold = np.array([spec.labels.index(ex.label) for ex in examples])
    idx = np.where(rng.random(gold.size) < 0.7, gold, rng.integers(0, K, gold.size))
    gone = rng.random(gold.size) < 0.2
    preds = [None if g else spec.labels[i] for g, i in zip(gone, idx)]
    scores, skipped = score_predictions(spec, examples, preds)
    assert skipped == {}
    sentinel = np.where(gone, -1, idx)
    assert scores["macro_f1"] == pytest.approx(f1_score(gold, sentinel, labels=range(K), average="macro",
                                                        zero_division=0), abs=1e-12)
    assert scores["micro_f1"] == pytest.approx(f1_score(gold, sentinel, labels=range(K), average="micro"), abs=1e-12)
    assert scores["accuracy"] == pytest.approx(accuracy_score(gold, sentinel), abs=1e-12)
    assert count_missing(task_metric(spec, "macro_f1"), preds) == int(gone.sum()) > 0


def test_missing_text_answers_are_wrong_and_counted(shared_data):
    spec, examples = _examples(shared_data, "hotpotqa")
    preds = [None if i % 4 == 0 else ("" if i % 4 == 1 else ex.answers[0]) for i, ex in enumerate(examples)]
    scores, _ = score_predictions(spec, examples, preds)
    right = sum(1 for i in range(len(examples)) if i % 4 > 1)
    assert scores["em"] == pytest.approx(right / len(examples))
    assert count_missing(task_metric(spec, "em"), preds) == len(examples) - right


def test_missing_regression_predictions_are_one_clear_error(shared_data):
    spec, examples = _examples(shared_data, "stsb")
    preds = [2.5] * len(examples)
    preds[3] = preds[7] = None
    m = task_metric(spec, "pearson")
    assert count_missing(m, preds) == 2
    with pytest.raises(DataError) as exc:
        metric_inputs(spec, m, examples, preds)
    msg = str(exc.value)
    assert "\n" not in msg and f"2 of {len(examples)} predictions are missing" in msg
    assert repr(examples[3].id) in msg and "correlation" in msg


def test_missing_reference_is_an_error(shared_data):
    spec, examples = _examples(shared_data, "sst2")
    examples = list(examples[:3])
    examples[1] = dataclasses.replace(examples[1], label=None)
    with pytest.raises(DataError, match=rf"example {examples[1].id!r}: no gold label"):
        metric_inputs(spec, task_metric(spec, "accuracy"), examples, [0, 1, 0])


def test_provenance_metrics_count_guesses_without_provenance(shared_data):
    spec, _ = _examples(shared_data, "nq")
    preds = [{"answer": "x", "provenance": [{"wikipedia_id": "1"}]}, {"answer": None, "provenance": None}, {"answer": "y"}]
    assert count_missing(task_metric(spec, "rprec"), preds) == 2
    assert count_missing(task_metric(spec, "em"), preds) == 1


# ----------------------------------------------------------------------------- compare


def test_pipeline_notes_missing_predictions_per_model():
    from dabench.prompting import _shown, missing_notes

    spec = get_registry().get("sst2")
    m = task_metric(spec, spec.metric)
    assert missing_notes(m, {"base": [0, None, MISSING, 1], "adapted": [0, 1, 1, 1]}) == [
        "base: 2 missing predictions scored as wrong"]
    assert missing_notes(m, {"base": [0], "adapted": [None]}) == ["adapted: 1 missing prediction scored as wrong"]
    assert missing_notes(m, {"base": [0], "adapted": [1]}) == []
    assert _shown(spec, None) == _shown(spec, MISSING) == "(no prediction)"


def test_task_notes_round_trip_and_render():
    from rich.console import Console

    from dabench.render.markdown import render_markdown
    from dabench.render.terminal import print_comparison

    data = three_task_comparison()
    assert all("notes" not in t for t in data["tasks"])  # written before notes existed: still loads
    comp = Comparison.from_dict(data)
    assert comp.tasks[0].notes == []
    comp.tasks[0].notes.append("base: 3 missing predictions scored as wrong")
    again = Comparison.from_dict(comp.to_dict())
    assert again.tasks[0].notes == ["base: 3 missing predictions scored as wrong"]
    name = again.tasks[0].task
    assert f"**{name}:** base: 3 missing predictions scored as wrong" in render_markdown(again.to_dict())
    console = Console(width=150, record=True)
    print_comparison(again.to_dict(), console=console)
    assert f"note: {name}: base: 3 missing predictions scored as wrong" in console.export_text()


def _sides(spec, shared_data, pred_b, pred_a):
    from dabench.prompting import _Side
    from dabench.runner import plan_task

    plan = plan_task(spec, shared_data, limit=len(pred_b))
    return plan, [_Side({spec.name: plan}, {spec.name: [{"pred": p} for p in preds]}, {}) for preds in (pred_b, pred_a)]


def test_compare_task_result_notes_missing_answers(shared_data):
    from dabench.prompting import _task_result

    spec = get_registry().get("hotpotqa")
    plan, _ = _sides(spec, shared_data, [None] * 12, [None] * 12)
    gold = [ex.answers[0] for ex in plan.examples]
    pred_b = ["" if i in (2, 5, 7) else g for i, g in enumerate(gold)]  # nothing extracted: missing
    _, (base, adapted) = _sides(spec, shared_data, pred_b, gold)
    result, _ = _task_result(spec, base, adapted, None, 200, 0, 0.05)
    assert result.notes == ["base: 3 missing predictions scored as wrong"]
    assert result.base == pytest.approx(9 / 12) and result.adapted == 1.0


def test_compare_refuses_missing_regression_predictions_naming_the_model(shared_data):
    from dabench.prompting import _task_result

    spec = get_registry().get("stsb")
    pred_a = [2.5] * 10
    pred_a[4] = ""  # no number in the generated text
    plan, (base, adapted) = _sides(spec, shared_data, [2.0] * 10, pred_a)
    with pytest.raises(DataError, match=rf"^adapted model: task 'stsb': 1 of 10 predictions are missing \(first: "
                                        rf"example {plan.examples[4].id!r}\)"):
        _task_result(spec, base, adapted, None, 200, 0, 0.05)
