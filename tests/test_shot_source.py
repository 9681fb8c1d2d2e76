"""Few-shot examples come from the task's few-shot split, or from a split the user names with
``--shots-split``; never silently from the evaluation split, never an evaluated example, and
the comparison records where they came from."""

from __future__ import annotations

import json

import pytest

import dabench
from dabench.cli import main
from dabench.errors import OptionError
from dabench.options import RunOptions
from dabench.registry import get_registry
from dabench.runner import plan_task

LIMIT = 6


def _evaluated_ids(shared_data):
    return {ex.id for ex in plan_task(get_registry().get("sst2"), shared_data, limit=LIMIT).examples}


def test_cli_refuses_shots_without_a_fewshot_file(lm_pair, shared_data, tmp_path, capsys):
    base, adapted = lm_pair
    code = main(["compare", str(base), str(adapted), "--tasks", "sst2", "--shots", "2", "--data-dir",
                 str(shared_data), "--limit", str(LIMIT), "--store", str(tmp_path / "s.sqlite"),
                 "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(shared_data / "glue/sst2/train.tsv") in err[0] and "--shots-split" in err[0]
    assert not (tmp_path / "out" / "comparison.json").exists()


def test_cli_shots_split_records_the_source_and_keeps_evaluated_examples_out(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    out = tmp_path / "out"
    code = main(["compare", str(base), str(adapted), "--tasks", "sst2", "--shots", "2", "--shots-split",
                 "validation", "--data-dir", str(shared_data), "--limit", str(LIMIT), "--resamples", "200",
                 "--store", str(tmp_path / "s.sqlite"), "--out", str(out)])
    assert code == 0
    data = json.loads((out / "comparison.json").read_text())
    shots = data["signature"]["shots"]["sst2"]
    assert len(shots) == 2 and not set(shots) & _evaluated_ids(shared_data)
    assert data["config"]["shot_source"] == {"sst2": "validation"}
    assert data["signature"]["shot_source"] == {"sst2": "validation"}
    assert data["config"]["options"]["shots_split"] == "validation"  # replayed by the gate
    assert RunOptions.layered({}, data["config"]).prompt.shots_split == "validation"


def test_api_shots_split(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    comp = dabench.compare(str(base), str(adapted), ["sst2"], data_dir=shared_data, limit=LIMIT, shots=2,
                           shots_split="validation", resamples=200, store_path=tmp_path / "s.sqlite", progress=False)
    shots = comp.signature["shots"]["sst2"]
    assert len(shots) == 2 and not set(shots) & _evaluated_ids(shared_data)
    assert comp.config["shot_source"] == {"sst2": "validation"}
    assert comp.config["shots_split"] == "validation"
    assert comp.task("sst2").n == LIMIT


def test_shots_split_is_a_prompting_option():
    with pytest.raises(OptionError, match="--shots-split applies to prompting, not to --regime probe"):
        RunOptions.layered({"regime": "probe", "shots_split": "validation"})
    kwargs = RunOptions.layered({"shots": 2, "shots_split": "validation"}).compare_kwargs(["sst2"])
    assert (kwargs["shots"], kwargs["shots_split"]) == (2, "validation")
