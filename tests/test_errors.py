"""Every row of docs/errors.md is a case here: the bad input gives one line on stderr that
contains the documented message, exit code 2, no traceback; and ``dabench gate`` on the same
bad input exits 2 and writes a JUnit file with an ``<error>`` (never exit 1: for the gate, 1
means the candidate regressed)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

import pytest

from dabench.cli import main

ROOT = Path(__file__).resolve().parents[1]

Case = Callable[[Path, Path, Path], list[str]]


def _no_tokenizer(lm: Path, tmp: Path) -> Path:
    out = tmp / "no-tokenizer"
    out.mkdir(exist_ok=True)
    for f in lm.iterdir():
        if not f.name.startswith(("tokenizer", "special_tokens", "vocab", "merges")):
            shutil.copy(f, out / f.name)
    return out


def _other_schema(tmp: Path) -> Path:
    path = tmp / "other.sqlite"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE IF NOT EXISTS records (a TEXT, b TEXT)")
    return path


def _file(tmp: Path) -> Path:
    path = tmp / "a-file"
    path.write_text("x", encoding="utf-8")
    return path


#: row id → (argument builder (base, adapted, tmp) → the arguments after the checkpoints, message)
CASES: dict[str, tuple[Callable[[Path, Path, Path], list[str]], str]] = {
    "resamples-zero": (lambda b, a, t: ["--resamples", "0"], "--resamples 0 is too few"),
    "resamples-negative": (lambda b, a, t: ["--resamples", "-5"], "--resamples -5 is too few"),
    "seed-negative": (lambda b, a, t: ["--seed", "-1"], "--seed must be a non-negative integer"),
    "shots-negative": (lambda b, a, t: ["--shots", "-1"], "--shots must be 0 or more"),
    "margin-negative": (lambda b, a, t: ["--margin", "-0.1"], "--margin must be a non-negative number"),
    "batch-size-zero": (lambda b, a, t: ["--batch-size", "0"], "--batch-size must be at least 1"),
    "option-of-another-regime": (lambda b, a, t: ["--epochs", "3"], "--epochs applies to --regime finetune/probe"),
    "store-parent-is-a-file": (lambda b, a, t: ["--store", str(_file(t) / "s.sqlite")], "is a file, not a folder"),
    "store-other-schema": (lambda b, a, t: ["--store", str(_other_schema(t))], "not a dabench record store"),
    "out-unwritable": (lambda b, a, t: ["--out", str(_file(t) / "report")], "cannot write it"),
    "unknown-option": (lambda b, a, t: ["--nosuch"], "No such option: --nosuch"),
    "select-prompt-without-validation": (lambda b, a, t: ["--select-prompt"], "drop --select-prompt"),
    "no-tokenizer": (lambda b, a, t: ["--base-override", str(_no_tokenizer(b, t))], "its tokenizer cannot encode text"),
}


def _argv(command: str, case: str, base: Path, adapted: Path, tmp: Path, data: Path) -> list[str]:
    build, _ = CASES[case]
    extra = build(base, adapted, tmp)
    if extra[:1] == ["--base-override"]:
        base, extra = Path(extra[1]), []
    argv = [command, str(base), str(adapted), "--tasks", "sst2", "--data-dir", str(data), "--limit", "4",
            "--resamples", "200"]
    if "--store" not in extra:
        argv += ["--store", str(tmp / "ok.sqlite")]
    if command == "compare" and "--out" not in extra:
        argv += ["--out", str(tmp / "out")]
    return argv + extra


@pytest.mark.parametrize("case", sorted(CASES))
def test_compare_bad_input_is_one_line_and_exit_2(case, lm_pair, shared_data, tmp_path, capsys):
    base, adapted = lm_pair
    code = main(_argv("compare", case, base, adapted, tmp_path, shared_data))
    err = capsys.readouterr().err
    assert code == 2, err
    assert CASES[case][1] in err, err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("case", sorted(CASES))
def test_gate_bad_input_exits_2_and_writes_a_junit_error(case, lm_pair, shared_data, tmp_path, capsys):
    base, adapted = lm_pair
    junit = tmp_path / "ci" / "gate.xml"
    argv = _argv("gate", case, base, adapted, tmp_path, shared_data) + ["--junit", str(junit)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    xml = junit.read_text(encoding="utf-8")
    assert "<error" in xml and 'errors="1"' in xml
    assert "Traceback" not in err


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.tsv"
    path.write_text("", encoding="utf-8")
    return path


def _header_only(tmp: Path) -> Path:
    path = tmp / "header.tsv"
    path.write_text("sentence\tlabel\n", encoding="utf-8")
    return path


def _schema_2(tmp: Path) -> Path:
    import json

    from tests.fake_comparison import fake_comparison, fake_task

    data = fake_comparison([fake_task("sst2")])
    data["schema"] = "dabench.comparison/2"
    path = tmp / "future.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


#: the table's rows about data, tasks and stored comparisons, given to the gate: row id → the
#: gate's arguments (base, adapted, tmp, data) and the message
GATE_ROWS: dict[str, tuple[Callable[[Path, Path, Path, Path], list[str]], str]] = {
    "data-file-is-a-directory": (lambda b, a, t, d: [str(b), str(a), "--tasks", "sst2", "--data-dir", str(d),
                                                     "--data-file", f"sst2:validation={t}"], "is a directory"),
    "empty-data-file": (lambda b, a, t, d: [str(b), str(a), "--tasks", "sst2", "--data-dir", str(d),
                                            "--data-file", f"sst2:validation={_empty(t)}"], "empty data file"),
    "header-only-data-file": (lambda b, a, t, d: [str(b), str(a), "--tasks", "sst2", "--data-dir", str(d),
                                                  "--data-file", f"sst2:validation={_header_only(t)}"],
                              "only header lines"),
    "unknown-suite": (lambda b, a, t, d: [str(b), str(a), "--tasks", "nosuch", "--data-dir", str(d)],
                      "unknown task or suite 'nosuch'"),
    "tasks-dir-missing": (lambda b, a, t, d: [str(b), str(a), "--tasks", "sst2", "--tasks-dir", str(t / "nope")],
                          "no such folder"),
    "comparison-schema-version": (lambda b, a, t, d: [str(_schema_2(t))], "is not the one this dabench understands"),
    "lmeval-dataset-unavailable": (lambda b, a, t, d: [str(b), str(a), "--tasks", "lmeval:gone",
                                                       "--lmeval-include-path", str(_gone_task(t))],
                                   "its dataset could not be loaded"),
}


def _gone_task(tmp: Path) -> Path:
    folder = tmp / "lmeval-tasks"
    folder.mkdir(exist_ok=True)
    (folder / "gone.yaml").write_text(
        "task: gone\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: " + str(tmp / "none.jsonl")
        + "\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{text}}\"\ndoc_to_choice: [a, b]\n"
        "doc_to_target: 0\nmetric_list:\n  - metric: acc\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("row", sorted(GATE_ROWS))
def test_gate_on_the_other_rows_exits_2_with_a_junit_error(row, lm_pair, shared_data, tmp_path, capsys):
    base, adapted = lm_pair
    build, message = GATE_ROWS[row]
    junit = tmp_path / "gate.xml"
    code = main(["gate", *build(base, adapted, tmp_path, shared_data), "--store", str(tmp_path / "s.sqlite"),
                 "--junit", str(junit)])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    xml = junit.read_text(encoding="utf-8")
    assert "<error" in xml and message in xml


def test_an_internal_error_is_one_line_a_traceback_file_and_exit_2(monkeypatch, tmp_path, capsys):
    import dabench.cli.stats_cmd as stats_cmd

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setenv("DABENCH_CRASH_DIR", str(tmp_path))
    monkeypatch.setattr(stats_cmd, "read_predictions", boom)
    code = main(["stats", "--metric", "accuracy", "--base", "x.jsonl", "--adapted", "y.jsonl"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "internal error: ZeroDivisionError: a bug" in err[0]
    saved = next(tmp_path.glob("dabench-traceback-*.txt")).read_text()
    assert "ZeroDivisionError" in saved and "Traceback" in saved


def test_the_gate_junit_is_written_on_an_internal_error_too(monkeypatch, lm_pair, shared_data, tmp_path):
    import dabench.cli.gate_cmd as gate_cmd

    def boom(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setenv("DABENCH_CRASH_DIR", str(tmp_path))
    monkeypatch.setattr(gate_cmd, "_run_compare", boom)
    base, adapted = lm_pair
    junit = tmp_path / "gate.xml"
    assert main(["gate", str(base), str(adapted), "--tasks", "sst2", "--junit", str(junit)]) == 2
    assert "internal error: RuntimeError: a bug" in junit.read_text()


def test_a_store_in_a_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch):
    """A folder we may not write (tests run as root, who may write anywhere, so SQLite's own
    answer for such a folder is given to the store directly)."""
    import sqlite3

    import dabench.store as store_mod

    def read_only(*a, **k):
        raise sqlite3.OperationalError("unable to open database file")

    path = tmp_path / "ro" / "s.sqlite"
    path.parent.mkdir()
    path.touch()
    monkeypatch.setattr(store_mod.sqlite3, "connect", read_only)
    code = main(["runs", "list", "--store", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot open (unable to open database file)" in err[0]


def test_the_gate_on_a_read_only_store_exits_2_with_a_junit_error(lm_pair, shared_data, tmp_path, capsys,
                                                                    monkeypatch):
    import sqlite3

    import dabench.store as store_mod

    def read_only(*a, **k):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(store_mod.sqlite3, "connect", read_only)
    base, adapted = lm_pair
    junit = tmp_path / "gate.xml"
    code = main(["gate", str(base), str(adapted), "--tasks", "sst2", "--data-dir", str(shared_data), "--limit", "4",
                 "--store", str(tmp_path / "ro" / "s.sqlite"), "--junit", str(junit)])
    assert code == 2 and "unable to open database file" in capsys.readouterr().err
    assert "<error" in junit.read_text(encoding="utf-8")


#: rows of docs/errors.md tested elsewhere: row id → (test file, test function)
ELSEWHERE = {
    "store-read-only": ("tests/test_errors.py", "test_a_store_in_a_read_only_folder_is_one_line"),
    "internal-error": ("tests/test_errors.py", "test_an_internal_error_is_one_line_a_traceback_file_and_exit_2"),
    "lmeval-dataset-unavailable": ("tests/test_errors.py",
                                   "test_an_lmeval_dataset_that_cannot_be_had_is_one_line_before_any_model_loads"),
    "data-file-is-a-directory": ("tests/cli/test_bad_input_messages.py", "test_data_file_that_is_a_directory"),
    "empty-data-file": ("tests/cli/test_bad_input_messages.py", "test_empty_data_file_fails_check_and_export"),
    "header-only-data-file": ("tests/cli/test_bad_input_messages.py", "test_header_only_data_file_fails"),
    "unknown-suite": ("tests/cli/test_bad_input_messages.py", "test_unknown_suite_is_called_a_suite"),
    "tasks-dir-missing": ("tests/cli/test_bad_input_messages.py", "test_missing_tasks_dir_is_refused"),
    "runs-drop-no-match": ("tests/cli/test_bad_input_messages.py", "test_runs_drop_without_a_match_fails"),
    "comparison-schema-version": ("tests/cli/test_bad_input_messages.py",
                                  "test_other_comparison_schema_version_is_refused"),
}


def test_every_row_of_the_errors_doc_is_a_case_here():
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8"), re.M)
    documented = set(rows)
    tested = set(CASES) | set(ELSEWHERE)
    assert documented == tested, (sorted(documented - tested), sorted(tested - documented))
    for row, (path, test) in ELSEWHERE.items():
        assert f"def {test}(" in (ROOT / path).read_text(encoding="utf-8"), (row, path, test)


def test_an_lmeval_dataset_that_cannot_be_had_is_one_line_before_any_model_loads(lm_pair, tmp_path, capsys,
                                                                                  monkeypatch):
    """lm-eval builds every task (loading its dataset) in the plan, before the base model loads:
    a dataset that is not there (a file gone, or a hub dataset offline and not cached) is one line."""
    from dabench.engines import checkpoints as ckpts

    loads: list[str] = []
    monkeypatch.setattr(ckpts, "load_model", lambda *a, **k: loads.append("load"))
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "gone.yaml").write_text(
        "task: gone\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: " + str(tmp_path / "none.jsonl")
        + "\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{text}}\"\ndoc_to_choice: [a, b]\n"
        "doc_to_target: 0\nmetric_list:\n  - metric: acc\n", encoding="utf-8")
    base, adapted = lm_pair
    code = main(["compare", str(base), str(adapted), "--tasks", "lmeval:gone", "--lmeval-include-path", str(folder),
                 "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "lm-eval task lmeval:gone: its dataset could not be loaded" in err[-1]
    assert loads == []
