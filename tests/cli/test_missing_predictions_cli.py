"""`dabench stats` and `dabench score` with null predictions: wrong, never a class, counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, f1_score

from dabench.cli import main, score_cmd, stats_cmd  # noqa: F401  (registers the commands)


@pytest.fixture(autouse=True)
def _no_network_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DABENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DABENCH_DOWNLOAD", raising=False)
    monkeypatch.delenv("DABENCH_DATA_DIR", raising=False)


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _records(path: Path, preds, refs) -> Path:
    path.write_text("".join(json.dumps({"id": f"e{i}", "prediction": p, "reference": r}) + "\n"
                            for i, (p, r) in enumerate(zip(preds, refs))), encoding="utf-8")
    return path


REFS = ["yes", "yes", "no"]


@pytest.fixture()
def audit_files(tmp_path):
    """The audit's 3-example case: one null prediction in the adapted file."""
    base = _records(tmp_path / "base.jsonl", ["yes", "no", "no"], REFS)
    adapted = _records(tmp_path / "adapted.jsonl", ["yes", None, "no"], REFS)
    return base, adapted


def test_stats_null_prediction_is_no_label_and_wrong(audit_files, capsys):
    base, adapted = audit_files
    code, out, err = _run(capsys, "stats", "--metric", "macro_f1", "--base", base, "--adapted", adapted,
                          "--resamples", 100, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["labels"] == ["no", "yes"]  # no "null" class
    y = [1, 1, 0]
    assert d["base"] == pytest.approx(f1_score(y, [1, 0, 0], labels=[0, 1], average="macro"), abs=1e-12)
    assert d["base"] == pytest.approx(2 / 3)  # unchanged by the other file's null (it was 0.444 with a null class)
    assert d["adapted"] == pytest.approx(f1_score(y, [1, -1, 0], labels=[0, 1], average="macro"), abs=1e-12)
    assert d["missing_base"] == 0 and d["missing_adapted"] == 1


def test_stats_text_output_reports_missing(audit_files, capsys):
    base, adapted = audit_files
    code, out, err = _run(capsys, "stats", "--metric", "accuracy", "--base", adapted, "--adapted", base,
                          "--resamples", 100)
    assert code == 0, err
    assert "missing    base 1, adapted 0 (scored as wrong)" in out
    assert f"base       {accuracy_score(REFS, ['yes', '(none)', 'no']):.4f}" in out  # 2/3: the null is wrong
    code, out, _ = _run(capsys, "stats", "--metric", "accuracy", "--base", base, "--adapted", base, "--resamples", 100)
    assert code == 0 and "missing" not in out


def test_stats_null_with_labels_option_and_typo_still_an_error(audit_files, tmp_path, capsys):
    base, adapted = audit_files
    code, out, err = _run(capsys, "stats", "--metric", "macro_f1", "--base", base, "--adapted", adapted,
                          "--labels", "yes,no", "--resamples", 100, "--json")
    assert code == 0, err
    assert json.loads(out)["missing_adapted"] == 1
    typo = _records(tmp_path / "typo.jsonl", ["yes", "yse", "no"], REFS)
    code, _, err = _run(capsys, "stats", "--metric", "macro_f1", "--base", base, "--adapted", typo, "--labels", "yes,no")
    assert code == 2 and "not in --labels" in err and len(err.strip().splitlines()) == 1


def test_stats_null_reference_and_null_score_are_one_line_errors(tmp_path, capsys):
    good = _records(tmp_path / "g.jsonl", ["yes", "no"], ["yes", None])
    code, _, err = _run(capsys, "stats", "--metric", "accuracy", "--base", good, "--adapted", good)
    assert code == 2 and "reference is null" in err and len(err.strip().splitlines()) == 1
    refs = [1.0, 2.0, 3.0, 4.0]
    b = _records(tmp_path / "b.jsonl", [1.1, 2.2, 2.9, 4.2], refs)
    a = _records(tmp_path / "a.jsonl", [1.0, None, None, 4.0], refs)
    code, _, err = _run(capsys, "stats", "--metric", "pearson", "--base", b, "--adapted", a)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1
    assert "2 of 4 predictions are missing" in lines[0] and "'e1'" in lines[0] and "a.jsonl" in lines[0]


def test_stats_text_metric_counts_null_answers(tmp_path, capsys):
    refs = ["paris", "rome", "oslo"]
    b = _records(tmp_path / "b.jsonl", ["paris", None, "  "], refs)
    a = _records(tmp_path / "a.jsonl", ["paris", "rome", "oslo"], refs)
    code, out, err = _run(capsys, "stats", "--metric", "em", "--base", b, "--adapted", a, "--resamples", 100, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["base"] == pytest.approx(1 / 3) and d["missing_base"] == 2 and d["missing_adapted"] == 0


def _sst2_gold(shared_data) -> list[str]:
    return [ln.split("\t")[1] for ln in (shared_data / "glue/sst2/dev.tsv").read_text(encoding="utf-8").split("\n")[1:] if ln]


def test_score_reports_missing_predictions(capsys, shared_data, tmp_path):
    gold = _sst2_gold(shared_data)
    preds = [None if i % 10 == 0 else ("1" if i % 3 else "0") for i in range(len(gold))]
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"id": f"validation-{i + 1}", "prediction": v}) + "\n" for i, v in enumerate(preds)))
    code, out, err = _run(capsys, "score", "sst2", "--data-dir", shared_data, "-p", p, "--json")
    assert code == 0, err
    result = json.loads(out)
    n_missing = sum(v is None for v in preds)
    assert set(result["missing"].values()) == {n_missing}
    expected = accuracy_score([int(g) for g in gold], [-1 if v is None else int(v) for v in preds])
    assert result["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-12)
    code, out, _ = _run(capsys, "score", "sst2", "--data-dir", shared_data, "-p", p)
    assert code == 0 and f"missing predictions: {n_missing} (scored as wrong)" in out


def test_score_without_missing_predictions_prints_no_missing_line(capsys, shared_data, tmp_path):
    gold = _sst2_gold(shared_data)
    p = tmp_path / "p.jsonl"
    p.write_text("".join(json.dumps({"id": f"validation-{i + 1}", "prediction": g}) + "\n" for i, g in enumerate(gold)))
    code, out, _ = _run(capsys, "score", "sst2", "--data-dir", shared_data, "-p", p)
    assert code == 0 and "missing" not in out
