"""Issue 13: a bad input is one line on stderr naming the file, field or option and what to
do, with exit code 2 — never a traceback, never a result that looks like a real one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dabench.cli import data_cmd, main, report_cmd, runs_cmd, stats_cmd, tasks_cmd  # noqa: F401  (registers the commands)
from dabench.data.readers import READERS
from dabench.errors import DataError
from dabench.registry import builtin_tasks_dir, get_registry
from dabench.comparison import check_comparison
from dabench.store import Store
from tests.fake_comparison import three_task_comparison

LONG_NAME = "a_task_with_a_very_long_name_that_a_narrow_table_would_cut_short_" + "x" * 40


@pytest.fixture(autouse=True)
def _no_network_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DABENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DABENCH_DOWNLOAD", raising=False)
    monkeypatch.delenv("DABENCH_DATA_DIR", raising=False)
    monkeypatch.delenv("DABENCH_TASKS_PATH", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The single stderr line of a refused input (asserts there is exactly one, no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def long_tasks_dir(tmp_path: Path) -> Path:
    """A folder with one spec: SST-2 under a long name and a suite of its own."""
    spec = yaml.safe_load((builtin_tasks_dir() / "glue" / "sst2.yaml").read_text(encoding="utf-8"))
    spec.update(name=LONG_NAME, suites=["longsuite"])
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "long.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------- data files


def test_data_file_that_is_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "data", "export", "sst2", "--split", "validation", "--data-file", f"validation={tmp_path}")
    line = one_line(err)
    assert code == 2 and "is a directory" in line and str(tmp_path) in line and "file not found" not in line


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_data_file_fails_check_and_export(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str) -> None:
    f = tmp_path / "dev.tsv"
    f.write_text(content, encoding="utf-8")
    code, out, _ = run(capsys, "data", "check", "sst2", "--data-file", f"validation={f}", "--split", "validation")
    assert code == 2 and "0 examples" not in out and f"{f}: empty data file" in out
    code, _, err = run(capsys, "data", "export", "sst2", "--split", "validation", "--data-file", f"validation={f}")
    assert code == 2 and f"{f}: empty data file" in one_line(err)


def test_header_only_data_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "dev.tsv"
    f.write_text("sentence\tlabel\n", encoding="utf-8")
    code, out, _ = run(capsys, "data", "check", "sst2", "--data-file", f"validation={f}", "--split", "validation")
    assert code == 2 and f"{f}: no examples in the file" in out
    code, _, err = run(capsys, "data", "export", "sst2", "--split", "validation", "--data-file", f"validation={f}")
    assert code == 2 and f"{f}: no examples in the file" in one_line(err)


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_every_reader_names_an_empty_file(tmp_path: Path, fmt: str) -> None:
    spec = next(s for s in (get_registry().get(n) for n in get_registry().names()) if s.format == fmt)
    f = tmp_path / "empty"
    f.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty data file") as info:
        READERS[fmt](f, spec, spec.eval_split)
    assert str(f) in str(info.value)
    errors: list[str] = []
    with pytest.raises(DataError):
        READERS[fmt](f, spec, spec.eval_split, errors=errors)


def test_real_data_still_reads(capsys: pytest.CaptureFixture[str], shared_data: Path) -> None:
    code, out, _ = run(capsys, "data", "check", "rte", "--data-dir", str(shared_data), "--split", "validation")
    assert code == 0 and "277 examples" in out


# ----------------------------------------------------------------------------- tasks and suites


def test_unknown_suite_is_called_a_suite(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tasks", "list", "--suite", "nosuch")
    line = one_line(err)
    assert code == 2 and "unknown suite 'nosuch'" in line
    assert "glue" in line and "sst2_text_ppl" in line and "biomed-intrinsic" in line


def test_unknown_name_lists_tasks_suites_and_intrinsic_tasks() -> None:
    reg = get_registry()
    with pytest.raises(Exception, match="unknown task or suite 'nosuch'") as info:
        reg.resolve(["nosuch"])
    msg = str(info.value)
    assert "known tasks: " in msg and "sst2" in msg and "intrinsic tasks: chemprot_text_ppl" in msg and "suites: " in msg
    with pytest.raises(Exception, match="unknown task 'nosuch'.*suites: .*glue"):
        reg.get("nosuch")


def test_tasks_list_and_show_take_tasks_dir(capsys: pytest.CaptureFixture[str], long_tasks_dir: Path) -> None:
    code, out, err = run(capsys, "tasks", "list", "--tasks-dir", str(long_tasks_dir))
    assert code == 0, err
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0][0] == "name" and [LONG_NAME, "glue"] == rows[[r[0] for r in rows].index(LONG_NAME)][:2]
    code, out, err = run(capsys, "tasks", "list", "--suite", "longsuite", "--tasks-dir", str(long_tasks_dir))
    assert code == 0 and out.splitlines()[1].startswith(LONG_NAME + "\t"), err
    code, out, err = run(capsys, "tasks", "show", LONG_NAME, "--tasks-dir", str(long_tasks_dir))
    assert code == 0 and out.startswith(LONG_NAME), err


@pytest.mark.parametrize("command", [["tasks", "list"], ["tasks", "show", "sst2"], ["data", "check", "sst2"]])
def test_missing_tasks_dir_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no-such-folder"
    code, _, err = run(capsys, *command, "--tasks-dir", str(missing))
    line = one_line(err)
    assert code == 2 and f"--tasks-dir {missing}: no such folder" in line


# ----------------------------------------------------------------------------- runs drop


def test_runs_drop_without_a_match_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as s:
        s.register_run("aaaaaaaa1111", "rk", seed=0, model_name="m", task="sst2", spec_hash="h", config={}, n_examples=1)
    code, _, err = run(capsys, "runs", "drop", "--store", str(path), "--task", "nosuch")
    line = one_line(err)
    assert code == 2 and "no run matched task nosuch" in line
    code, out, _ = run(capsys, "runs", "drop", "--store", str(path), "--task", "sst2")
    assert code == 0 and "dropped 1 run" in out


# ----------------------------------------------------------------------------- comparison schema


def test_other_comparison_schema_version_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = three_task_comparison()
    check_comparison(data)  # the version it understands passes
    data["schema"] = "dabench.comparison/2"
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run(capsys, "report", str(path), "--format", "md", "--out", str(tmp_path / "r.md"))
    line = one_line(err)
    assert code == 2 and "'dabench.comparison/2'" in line and "'dabench.comparison/1'" in line and "upgrade dabench" in line


# ----------------------------------------------------------------------------- cosmetics


def test_stats_prints_p_values_like_the_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = []
    for side, correct in (("base", 10), ("adapted", 90)):
        f = tmp_path / f"{side}.jsonl"
        f.write_text("".join(json.dumps({"id": f"e{i}", "prediction": "1" if i < correct else "0", "reference": "1"}) + "\n"
                             for i in range(100)), encoding="utf-8")
        files.append(str(f))
    code, out, err = run(capsys, "stats", "--metric", "accuracy", "--base", files[0], "--adapted", files[1],
                         "--resamples", "500")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("p-value"))
    values = re.findall(r"(?:p-value|bootstrap|mcnemar)\s+(\S+?)(?:;|\s|$)", line)
    assert len(values) == 3 and all(re.fullmatch(r"<0\.0001|[01]\.\d{4}", v) for v in values), line


@pytest.mark.parametrize("command", [["tasks", "list"], ["data", "check"], ["runs", "drop"], ["stats"]])
def test_help_shows_no_type_on_flags(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0 and "--help" in out and "<bool>" not in out
