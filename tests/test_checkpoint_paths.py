"""Checkpoint paths: an existing local path is a path (never a hub id), and a comparison
records it absolute, so the gate finds the baseline from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import dabench
from dabench.cli import main
from dabench.engines.checkpoints import recorded_location, resolve
from dabench.errors import CheckpointError


@pytest.fixture
def models_cwd(lm_pair, tmp_path, monkeypatch):
    """A working dir holding the lm_pair as ``models/x`` (base) and ``models/y`` (adapted)."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "x").symlink_to(lm_pair[0], target_is_directory=True)
    (tmp_path / "models" / "y").symlink_to(lm_pair[1], target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_relative_path_with_one_slash_is_a_local_dir(models_cwd):
    ck = resolve("models/x")
    assert ck.kind == "dir"
    assert Path(recorded_location(ck.location)).is_absolute()
    assert recorded_location("org/name") == "org/name"  # a hub id stays as it is


def test_existing_path_that_is_no_model_is_not_a_hub_id(models_cwd):
    (models_cwd / "models" / "notes").write_text("x")
    with pytest.raises(CheckpointError, match="models/notes: expected a model directory or a weights file"):
        resolve("models/notes")


def test_comparison_records_absolute_paths_and_gate_replays_elsewhere(models_cwd, lm_pair, shared_data, tmp_path,
                                                                        monkeypatch):
    store = tmp_path / "s.sqlite"
    (models_cwd / "data").symlink_to(shared_data, target_is_directory=True)
    comp = dabench.compare("models/x", "models/y", ["rte"], data_dir="data", limit=5, resamples=200,
                           store_path=store, progress=False)
    assert Path(comp.config["data_dir"]).is_absolute()  # a relative --data-dir replays from anywhere too
    # the API records its options as the CLI does, local paths absolute, so the gate replays them
    assert Path(comp.config["options"]["data_dir"]).is_absolute()
    assert comp.config["options"]["limit"] == 5
    assert (comp.base.name, comp.adapted.name) == ("x", "y")
    for info, model in ((comp.base, lm_pair[0]), (comp.adapted, lm_pair[1])):
        assert Path(info.path).is_absolute() and Path(info.path).samefile(model)
    released = tmp_path / "released"
    released.mkdir()
    comp.save(released / "comparison.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # models/x and models/y do not exist here
    code = main(["gate", str(released / "comparison.json"), str(lm_pair[1]), "--store", str(store)])
    assert code == 0
