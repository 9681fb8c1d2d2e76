"""`dabench compare` from the command line: outputs, and one clear line for each bad input."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dabench.example_rows import TEXT_FIELDS, read_examples
from dabench.leaderboard.provenance import reproduce_command


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dabench", *args], capture_output=True, text=True, cwd=cwd)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_compare_writes_comparison_json(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    out = tmp_path / "out"
    proc = run("compare", str(base), str(adapted), "--tasks", "sst2,rte", "--data-dir", str(shared_data),
               "--limit", "20", "--resamples", "500", "--out", str(out), "--store", str(tmp_path / "s.sqlite"))
    assert proc.returncode == 0, proc.stderr
    assert "sst2" in proc.stdout and "verdict" in proc.stdout
    data = json.loads((out / "comparison.json").read_text())
    assert [t["task"] for t in data["tasks"]] == ["sst2", "rte"]

    as_json = run("compare", str(base), str(adapted), "--tasks", "sst2,rte", "--data-dir", str(shared_data),
                  "--limit", "20", "--resamples", "500", "--out", str(tmp_path / "o2"), "--store", str(tmp_path / "s.sqlite"),
                  "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["tasks"] == data["tasks"]

    # every example's row is written beside comparison.json; the rows reproduce each task's Δ
    # (accuracy: the mean of the per-example scores) and its kept disagreements
    rows = read_examples(out / "examples.jsonl")
    assert list(rows) == ["sst2", "rte"]
    for t in data["tasks"]:
        task_rows = rows[t["task"]]
        assert len(task_rows) == t["n"] == 20
        base_acc = sum(r["base_score"] for r in task_rows) / 20
        adapted_acc = sum(r["adapted_score"] for r in task_rows) / 20
        assert base_acc == pytest.approx(t["base"], abs=1e-12) and adapted_acc == pytest.approx(t["adapted"], abs=1e-12)
        differ = [r for r in task_rows if r["base_prediction"] != r["adapted_prediction"]]
        assert t["disagreements"] == [{k: r[k] for k in TEXT_FIELDS} for r in differ[:5]]
        assert all(part.strip() in r["prompt"] for r in task_rows for part in r["input"].split(" | "))

    # the leaderboard publishes the rows, and its reproduce command reruns to the same numbers
    assert run("leaderboard", "add", str(out / "comparison.json"), "--dir", str(tmp_path / "lb")).returncode == 0
    (record,) = (tmp_path / "lb" / "records").glob("*.json")
    assert (record.parent / f"{record.stem}.examples.jsonl").read_bytes() == (out / "examples.jsonl").read_bytes()
    command = shlex.split(reproduce_command(data))
    assert command[:2] == ["dabench", "compare"] and "--limit" in command and "--resamples" in command
    again = run(*command[1:], "--out", str(tmp_path / "again"), "--store", str(tmp_path / "s2.sqlite"))
    assert again.returncode == 0, again.stderr
    redone = json.loads((tmp_path / "again" / "comparison.json").read_text())
    assert [{k: t[k] for k in ("task", "base", "adapted", "delta", "ci", "p_value")} for t in redone["tasks"]] == \
           [{k: t[k] for k in ("task", "base", "adapted", "delta", "ci", "p_value")} for t in data["tasks"]]


def test_unknown_task(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    proc = run("compare", str(base), str(adapted), "--tasks", "sst2,nosuchtask", "--data-dir", str(shared_data))
    assert_clean_error(proc, "nosuchtask", "dabench tasks list")


def test_missing_checkpoint_dir(lm_pair, shared_data, tmp_path):
    base, _ = lm_pair
    missing = tmp_path / "no" / "such" / "model"
    proc = run("compare", str(base), str(missing), "--tasks", "sst2", "--data-dir", str(shared_data))
    assert_clean_error(proc, str(missing))


def test_data_dir_without_task_files(lm_pair, tmp_path):
    base, adapted = lm_pair
    empty = tmp_path / "data"
    empty.mkdir()
    proc = run("compare", str(base), str(adapted), "--tasks", "chemprot", "--data-dir", str(empty))
    assert_clean_error(proc, str(empty / "chemprot" / "test.txt"), "to get it")


def test_no_data_dir_says_how_to_get_data(lm_pair, tmp_path, monkeypatch):
    base, adapted = lm_pair
    monkeypatch.delenv("DABENCH_DATA_DIR", raising=False)
    proc = run("compare", str(base), str(adapted), "--tasks", "sst2", cwd=tmp_path)
    assert_clean_error(proc, "glue/sst2/dev.tsv", "--data-dir")


def test_malformed_jsonl_line(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    data = tmp_path / "data"
    shutil.copytree(shared_data / "chemprot", data / "chemprot")
    test = data / "chemprot" / "test.txt"
    lines = test.read_text().splitlines()
    lines[6] = lines[6][:-5]  # cut the closing of line 7
    test.write_text("\n".join(lines) + "\n")
    proc = run("compare", str(base), str(adapted), "--tasks", "chemprot", "--data-dir", str(data))
    assert_clean_error(proc, f"{test}:7", "malformed JSON")


def test_tasks_list_json():
    proc = run("tasks", "list", "--json")
    assert proc.returncode == 0
    names = {t["name"] for t in json.loads(proc.stdout)}
    assert {"sst2", "rte", "chemprot"} <= names


@pytest.mark.parametrize("args, needle", [
    (("compare", "a", "b", "--no-such-option"), "No such option: --no-such-option"),
    (("regimes", "extra-argument"), "unexpected extra argument"),
    (("compare",), "Missing argument"),
])
def test_usage_errors_exit_2_without_a_traceback(args, needle):
    proc = run(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert needle in proc.stderr
