"""`dabench data check|export`, `dabench score`, `dabench tasks show` on the real shared data."""

from __future__ import annotations

import json

import pytest

from dabench.cli import data_cmd, main, score_cmd, tasks_cmd  # noqa: F401  (registers the commands)


@pytest.fixture(autouse=True)
def _no_network_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DABENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DABENCH_DOWNLOAD", raising=False)
    monkeypatch.delenv("DABENCH_DATA_DIR", raising=False)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_check_counts_and_labels(capsys, shared_data):
    code, out, _ = run(capsys, "data", "check", "rte", "--data-dir", str(shared_data), "--json")
    assert code == 0
    report = json.loads(out)
    by_split = {r["split"]: r for r in report["splits"]}
    assert by_split["train"]["status"] == "missing"
    assert by_split["validation"]["n"] == 277 and by_split["validation"]["labels"] == {"0": 146, "1": 131}
    code, out, _ = run(capsys, "data", "check", "chemprot", "--data-dir", str(shared_data), "--split", "validation")
    assert code == 0 and "validation: 2427 examples" in out and "AGONIST-INHIBITOR" in out


def test_data_check_named_missing_split_fails(capsys, shared_data):
    code, out, _ = run(capsys, "data", "check", "sst2", "--data-dir", str(shared_data), "--split", "train")
    assert code == 2 and "expected" in out and "glue/sst2/train.tsv" in out


def test_data_check_lists_every_bad_row(capsys, tmp_path):
    f = tmp_path / "dev.tsv"
    f.write_text("sentence\tlabel\ngood\t1\nbad label\t7\nmissing field\nok\t0\n", encoding="utf-8")
    code, out, _ = run(capsys, "data", "check", "sst2", "--data-file", f"validation={f}", "--split", "validation")
    assert code == 2
    assert "2 bad rows" in out and "dev.tsv:3: label '7'" in out and "dev.tsv:4: expected 2" in out


def test_data_check_kilt_answer_statistics(capsys, shared_data):
    code, out, _ = run(capsys, "data", "check", "triviaqa", "--data-dir", str(shared_data), "--split", "validation", "--json")
    assert code == 0
    r = json.loads(out)["splits"][0]
    assert r["n"] == 5 and r["answers"]["with_answers"] == 5 and r["missing_input"] == 5
    assert any("get_triviaqa_input" in w for w in r["warnings"])


def test_data_export_rct_fixture_in_file_order(capsys, shared_data):
    path = shared_data / "rct" / "fixtures.json"
    code, out, _ = run(capsys, "data", "export", "rct", "--split", "test", "--data-file", f"test={path}")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    raw = [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]
    assert len(lines) == 31
    assert [x["reference"] for x in lines] == [r["label"] for r in raw]
    assert lines[0] == {"id": "test-1", "inputs": {"sentence": raw[0]["sentence"].rstrip("\n")},
                        "reference": "BACKGROUND", "cluster": "inferred-1"}


def test_data_export_kilt_answers(capsys, shared_data, tmp_path):
    out_file = tmp_path / "nq.jsonl"
    code, _, _ = run(capsys, "data", "export", "nq", "--data-dir", str(shared_data), "-o", str(out_file))
    assert code == 0
    lines = [json.loads(x) for x in out_file.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["id"] == "6915606477668963399" and lines[0]["reference"][0] == "the therefore sign"


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_score_classification(capsys, shared_data, tmp_path):
    from sklearn.metrics import accuracy_score

    raw = [ln.split("\t")[1] for ln in (shared_data / "glue/sst2/dev.tsv").read_text(encoding="utf-8").split("\n")[1:] if ln]
    preds = [1 if i % 3 else 0 for i in range(len(raw))]
    p = _write(tmp_path / "p.jsonl", [{"id": f"validation-{i + 1}", "prediction": v} for i, v in enumerate(preds)])
    code, out, _ = run(capsys, "score", "sst2", "--data-dir", str(shared_data), "-p", str(p), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["n"] == 872 and result["headline"] == "accuracy"
    assert result["metrics"]["accuracy"] == pytest.approx(accuracy_score([int(x) for x in raw], preds))


@pytest.mark.parametrize("rows, message", [
    (lambda n: [{"id": f"validation-{i + 1}", "prediction": "1"} for i in range(n - 1)], "1 of 872 examples"),
    (lambda n: [{"id": f"validation-{i + 1}", "prediction": "1"} for i in range(n)] + [{"id": "validation-3", "prediction": "0"}],
     "id 'validation-3' is repeated (first at line 3)"),
    (lambda n: [{"id": f"validation-{i + 1}", "prediction": "positive"} for i in range(n)], "unknown label 'positive'"),
    (lambda n: [{"id": f"validation-{i + 1}", "prediction": "1"} for i in range(n)] + [{"id": "x9", "prediction": "1"}],
     "1 prediction ids are not in split 'validation'"),
])
def test_score_refuses_bad_prediction_files(capsys, shared_data, tmp_path, rows, message):
    p = _write(tmp_path / "p.jsonl", rows(872))
    code, out, err = run(capsys, "score", "sst2", "--data-dir", str(shared_data), "-p", str(p))
    assert code == 2 and message in err and err.count("\n") == 1


def test_score_kilt_guess_file_reproduces_kilt_values(capsys, shared_data):
    fx = shared_data / "kilt_eval_fixtures"
    code, out, _ = run(capsys, "score", "nq", "--data-file", f"validation={fx / 'gold1.jsonl'}",
                       "-p", str(fx / "guess1_1.jsonl"), "--json")
    assert code == 0
    m = json.loads(out)["metrics"]
    assert m["em"] == 2 / 3 and m["token_f1"] == 0.8333333333333334
    assert m["kilt_em"] == 1 / 3 and m["kilt_f1"] == 1 / 3
    assert m["rprec"] == 1 / 3 and m["recall@5"] == 1 / 3


def test_score_regression(capsys, shared_data, tmp_path):
    from scipy.stats import pearsonr, spearmanr

    rows = [ln.split("\t") for ln in (shared_data / "glue/stsb/dev.tsv").read_text(encoding="utf-8").split("\n")[1:] if ln]
    gold = [float(r[9]) for r in rows]
    preds = [round(5 - g if i % 4 == 0 else g, 1) for i, g in enumerate(gold)]
    p = _write(tmp_path / "p.jsonl", [{"id": r[0], "prediction": v} for r, v in zip(rows, preds)])
    code, out, _ = run(capsys, "score", "stsb", "--data-dir", str(shared_data), "-p", str(p), "--json")
    assert code == 0
    m = json.loads(out)["metrics"]
    assert m["pearson"] == pytest.approx(pearsonr(preds, gold)[0], abs=1e-12)
    assert m["spearman"] == pytest.approx(spearmanr(preds, gold)[0], abs=1e-12)


def test_tasks_show_and_list(capsys):
    code, out, _ = run(capsys, "tasks", "show", "chemprot", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "chemprot" and len(data["labels"]) == 13 and data["spec_hash"] == "1721bcf290a15a05"
    code, out, _ = run(capsys, "tasks", "show", "stsb", "--domain", "biomed")
    assert code == 0 and "pearson" in out and "category out-of-domain" in out
    code, out, _ = run(capsys, "tasks", "list", "--suite", "kilt", "--json")
    assert code == 0 and {t["name"] for t in json.loads(out)} >= {"nq", "fever", "wow"}
    code, _, err = run(capsys, "tasks", "show", "nope")
    assert code == 2 and "unknown task 'nope'" in err


def test_intrinsic_tasks_are_listed_and_shown(capsys):
    code, out, _ = run(capsys, "tasks", "list", "--json")
    rows = {t["name"]: t for t in json.loads(out)}
    assert code == 0 and rows["chemprot_text_ppl"]["type"] == "intrinsic" and "sst2" in rows
    assert rows["sst2_text_ppl"]["metric"] == "neg_log_ppl" and rows["sst2_text_ppl"]["category"] == "out-of-domain"
    code, out, _ = run(capsys, "tasks", "list", "--suite", "intrinsic", "--json")
    assert code == 0 and {t["name"] for t in json.loads(out)} == {"chemprot_text_ppl", "sst2_text_ppl"}
    code, out, _ = run(capsys, "tasks", "show", "chemprot_text_ppl")
    assert code == 0 and "documents: text of chemprot:test" in out and "neg_log_ppl" in out
    code, out, _ = run(capsys, "tasks", "show", "sst2_text_ppl", "--json")
    assert code == 0 and json.loads(out)["text_of"]["task"] == "sst2"
