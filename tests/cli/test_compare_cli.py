"""`dabench compare` from the command line: outputs, and one clear line for each bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


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
    (("leaderboard", "build", "extra-argument"), "unexpected extra argument"),
    (("compare",), "Missing argument"),
])
def test_usage_errors_exit_2_without_a_traceback(args, needle):
    proc = run(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert needle in proc.stderr
