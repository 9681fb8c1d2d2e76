"""The demo's tasks are registered tasks of suite ``demo`` whose data ships with dabench.

They resolve from the registry, read their files from the package without a data dir (and
whatever data dir is set), and the gate command ``dabench demo`` prints runs as printed on
the demo's models (the ``built`` fixture of ``conftest.py``) and fails on the in-domain task.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from pydantic import ValidationError

from dabench.data import ENV_DATA_DIR, load_split
from dabench.data.packaged import PACKAGE_ROOT, packaged_path
from dabench.data.sources import locate_split
from dabench.demo import DATA_DIR, DEMO_SUITE, DEMO_TASKS, DemoAssets
from dabench.errors import DataError, TaskError
from dabench.registry import get_registry, load_spec_file
from dabench.taskspec import TaskSpec


def _main(args: list[str]) -> int:
    from dabench.cli import main

    return main(args)


def test_demo_tasks_resolve_from_the_registry_as_suite_demo(specs: dict[str, TaskSpec]) -> None:
    reg = get_registry()
    assert reg.suites()[DEMO_SUITE] == sorted(DEMO_TASKS)
    assert [s.name for s in reg.resolve([DEMO_SUITE])] == list(DEMO_TASKS)
    for name in DEMO_TASKS:
        spec = reg.get(name)
        assert spec.suites == [DEMO_SUITE] and spec.family == "demo"
        assert spec.data_source == "package"
        for split, rel in spec.files.items():  # the files the demo's generator writes, inside the package
            assert (PACKAGE_ROOT / rel).parent.parent == DATA_DIR, (name, split)


def test_demo_data_loads_without_a_data_dir(specs: dict[str, TaskSpec], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    monkeypatch.setenv("DABENCH_CACHE_DIR", str(tmp_path / "cache"))
    for spec in specs.values():
        for split in spec.files:
            examples, digest = load_split(spec, split, None)
            assert examples and len(digest) == 64
            path, reading = locate_split(spec, split, None)  # the locator of `dabench data` and `score`
            assert path == packaged_path(spec, split) and reading is spec
            # a data dir set for other tasks does not hide the shipped files
            assert load_split(spec, split, tmp_path)[1] == digest
    assert not (tmp_path / "cache").exists()  # nothing is fetched or cached


def test_tasks_list_and_data_check_need_no_flags(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    assert _main(["tasks", "list", "--suite", DEMO_SUITE, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["suites"]) for r in rows] == [(n, [DEMO_SUITE]) for n in DEMO_TASKS]
    assert _main(["data", "check", "demo_domain", "--split", "test"]) == 0
    assert "300 examples" in capsys.readouterr().out


def test_packaged_paths_stay_inside_the_package(tmp_path: Path) -> None:
    raw = {"name": "x", "format": "jsonl", "data_source": "package", "eval_split": "test",
           "fields": {"text": "text"}, "label_field": "label", "labels": ["a", "b"],
           "verbalizers": {"a": "a", "b": "b"}, "templates": [{"id": "t", "text": "{text}"}], "metric": "accuracy"}
    for bad in ("../outside.jsonl", "/abs/test.jsonl", "demo\\data\\test.jsonl"):
        with pytest.raises(ValidationError, match="relative path inside the dabench package"):
            TaskSpec.model_validate({**raw, "files": {"test": bad}})
    spec_file = tmp_path / "x.yaml"
    spec_file.write_text(json.dumps({**raw, "files": {"test": "../x.jsonl"}}), encoding="utf-8")
    with pytest.raises(TaskError, match=r"x\.yaml: task 'x' field files"):
        load_spec_file(spec_file)
    missing = TaskSpec.model_validate({**raw, "files": {"test": "demo/data/no_such/test.jsonl"}})
    with pytest.raises(DataError, match="ships with dabench but .*no_such/test.jsonl is missing"):
        load_split(missing, "test", None)


def test_printed_gate_command_fails_the_base_on_the_in_domain_task(
    built: tuple[DemoAssets, list[tuple[str, float]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dabench gate <adapted> <base> --tasks demo_domain`, as `dabench demo` prints it with the
    paths relative to the current dir: no data or task flags, exit 1, names the failing task."""
    from dabench.cli.demo_cmd import gate_hint

    assets, _ = built
    out = assets.base_dir.parent
    monkeypatch.chdir(out.parent)
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    hint = gate_hint(Path(out.name) / "adapted", Path(out.name) / "base")
    assert hint == f"try the gate: dabench gate {out.name}/adapted {out.name}/base --tasks demo_domain"
    command = shlex.split(hint.removeprefix("try the gate: "))
    # a private store and fewer resamples keep the test fast; the decision is far from the line
    code = _main([*command[1:], "--store", str(tmp_path / "store.sqlite"), "--resamples", "2000"])
    printed = capsys.readouterr().out
    assert code == 1
    assert "FAIL demo_domain" in printed and "1 of 1 tasks fail: demo_domain" in printed


def test_printed_leaderboard_command_builds_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The last line `dabench demo` prints is one command that files its result and builds the site."""
    from dabench.cli.demo_cmd import leaderboard_hint
    from tests.fake_comparison import three_task_comparison

    monkeypatch.chdir(tmp_path)
    out = Path("reports/demo")
    out.mkdir(parents=True)
    (out / "comparison.json").write_text(json.dumps(three_task_comparison()), encoding="utf-8")
    hint = leaderboard_hint(out)
    assert hint == ("build a leaderboard from it: dabench leaderboard build reports/demo/comparison.json "
                    "--dir reports/demo/leaderboard --out reports/demo/site")
    assert _main(shlex.split(hint.split(": ", 1)[1])[1:]) == 0
    assert (out / "site" / "index.html").is_file() and len(list((out / "leaderboard" / "records").glob("*.json"))) == 1
