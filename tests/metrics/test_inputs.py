"""metric_inputs / example_stats / score_predictions: one path from predictions to scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from dabench.data import read_examples
from dabench.errors import DataError
from dabench.metrics import example_stats, metric_inputs, score_predictions, task_metric, task_metrics
from dabench.registry import get_registry


def _examples(shared_data, task, split="validation"):
    spec = get_registry().get(task)
    return spec, read_examples(spec, shared_data / spec.files[split], split)


def test_label_indices_and_values_are_equivalent(shared_data):
    spec, examples = _examples(shared_data, "chemprot", "test")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(spec.labels), len(examples))
    by_value = [spec.labels[i] for i in idx]
    s1, _ = score_predictions(spec, examples, idx)
    s2, _ = score_predictions(spec, examples, by_value)
    assert s1 == s2
    gold = [spec.labels.index(ex.label) for ex in examples]
    assert s1["macro_f1"] == pytest.approx(f1_score(gold, idx, average="macro", labels=range(13), zero_division=0), abs=1e-12)
    stats = example_stats(spec, examples, idx)
    assert list(stats) == ["micro_f1", "macro_f1", "accuracy"]
    assert stats["micro_f1"].shape == (len(examples), 13 * 14)  # K×(K+1): a column of missing predictions


def test_unknown_label_and_bad_numbers_name_the_example(shared_data):
    spec, examples = _examples(shared_data, "sst2")
    preds = ["1"] * len(examples)
    preds[4] = "positive"
    with pytest.raises(DataError, match=r"example 'validation-5': unknown label 'positive'"):
        score_predictions(spec, examples, preds)
    preds[4] = 7
    with pytest.raises(DataError, match="label index 7 out of range"):
        score_predictions(spec, examples, preds)
    stsb, st_examples = _examples(shared_data, "stsb")
    bad = [2.0] * len(st_examples)
    bad[0] = "high"
    with pytest.raises(DataError, match=r"example '0': prediction 'high' is not a number"):
        score_predictions(stsb, st_examples, bad)


def test_generation_answers_skip_provenance_metrics(shared_data):
    spec, examples = _examples(shared_data, "hotpotqa")
    preds = [ex.answers[0] if i % 3 else "nope" for i, ex in enumerate(examples)]
    scores, skipped = score_predictions(spec, examples, preds)
    assert set(scores) == {"em", "token_f1", "answer_accuracy"}
    assert set(skipped) == {"kilt_em", "kilt_f1", "rprec", "recall@5"}
    expected = sum(1 for i in range(len(examples)) if i % 3) / len(examples)
    assert scores["em"] == pytest.approx(expected) and scores["answer_accuracy"] == pytest.approx(expected)


def test_kilt_guess_mappings_score_provenance(shared_data):
    spec, examples = _examples(shared_data, "fever")
    preds = []
    for i, ex in enumerate(examples):
        prov = ex.extra["output"][0]["provenance"] if i < 3 else [{"wikipedia_id": "0"}]
        preds.append({"answer": ex.label, "provenance": prov})
    scores, skipped = score_predictions(spec, examples, preds)
    assert skipped == {}
    assert scores["accuracy"] == 1.0 and scores["rprec"] == pytest.approx(3 / 5)
    assert scores["kilt_accuracy"] == pytest.approx(3 / 5)
    # label indices work for the KILT-score of a classification task too
    idx = [spec.labels.index(ex.label) for ex in examples]
    m = task_metric(spec, "kilt_accuracy")
    p, r = metric_inputs(spec, m, examples, [{"answer": i, "provenance": q["provenance"]} for i, q in zip(idx, preds)])
    assert m.score(p, r) == pytest.approx(3 / 5)


def test_retrieval_only_guesses_skip_answer_metrics(shared_data):
    spec, examples = _examples(shared_data, "nq")
    preds = [{"answer": None, "provenance": [p for o in ex.extra["output"] for p in o.get("provenance", [])]} for ex in examples]
    scores, skipped = score_predictions(spec, examples, preds)
    assert set(scores) == {"rprec", "recall@5"} and scores["rprec"] == 1.0
    assert "em" in skipped and "kilt_em" in skipped


def test_every_task_metric_fits_its_task_type():
    for name in get_registry().names():
        spec = get_registry().get(name)
        for mname, metric in task_metrics(spec).items():
            kind = metric.input_kind
            if spec.type == "classification":
                assert kind in ("label", "kilt"), (name, mname)
            elif spec.type == "regression":
                assert kind == "score", (name, mname)
            else:
                assert kind in ("text", "kilt"), (name, mname)
        assert not getattr(task_metric(spec, spec.metric), "requires_provenance", False), name
