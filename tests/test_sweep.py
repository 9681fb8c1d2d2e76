"""Checkpoint sweeps on a real series: continued pretraining of a small base on ChemProt text,
saved at increasing steps. In-domain Δ (−log perplexity of ChemProt text) rises, general text
(SST-2 sentences) drops; the base is evaluated once; p-values are Holm over checkpoints × tasks
(statsmodels); a checkpoint against itself ties everywhere."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from statsmodels.stats.multitest import multipletests

from dabench.cli import main
from dabench.leaderboard import add_records
from dabench.leaderboard.provenance import sweep_command
from dabench.sweep import checkpoint_step, ordered_checkpoints, sweep
from tests._builders.models import build_checkpoint_series

TASKS = ["chemprot_text_ppl", "sst2_text_ppl"]
STEPS = (2, 8, 60)


@pytest.fixture(scope="module")
def series(lm_pair, shared_data, tmp_path_factory):
    return build_checkpoint_series(lm_pair[0], shared_data, tmp_path_factory.mktemp("series"), STEPS, lr=3e-4)


def _sweep(lm_pair, series, shared_data, store, **extra):
    return sweep(str(lm_pair[0]), [str(p) for p in reversed(series)], TASKS, data_dir=shared_data, limit=150,
                 resamples=400, store_path=store, progress=False, domain="biomed", **extra)


def test_trajectory_recommendation_and_forgetting_onset(lm_pair, series, shared_data, tmp_path, loads):
    result = _sweep(lm_pair, series, shared_data, tmp_path / "s.sqlite", margin=0.05)
    assert [p.step for p in result.points] == list(STEPS)  # ordered by trainer_state.json, not as given
    base = str(Path(lm_pair[0]).resolve())
    assert sum(1 for loc in loads if str(Path(loc).resolve()) == base) == 1, "the base is evaluated once"
    d = {(p.step, t.task): t for p in result.points for t in p.comparison.tasks}
    # in-domain text gets likelier with training; general text less likely
    assert d[(STEPS[0], "chemprot_text_ppl")].delta < d[(STEPS[-1], "chemprot_text_ppl")].delta
    assert d[(STEPS[-1], "chemprot_text_ppl")].verdict == "win"
    assert d[(STEPS[-1], "sst2_text_ppl")].verdict == "loss"
    # one Holm family over checkpoints x tasks
    family = [t for p in result.points for t in p.comparison.tasks]
    ref = multipletests([t.p_value for t in family], method="holm")[1]
    assert [t.p_adjusted for t in family] == pytest.approx(list(ref))
    onset = result.forgetting_onset["sst2_text_ppl"]
    assert onset == next(s for s in STEPS if d[(s, "sst2_text_ppl")].verdict == "loss")
    assert result.forgetting_onset["chemprot_text_ppl"] is None
    # the first checkpoint loses a little general text (within the margin), the later ones more
    ok = [s for s in STEPS if d[(s, "sst2_text_ppl")].ci[0] > -0.05]
    assert ok and ok != list(STEPS)
    rec = result.recommendation
    assert rec["step"] == max(ok, key=lambda s: d[(s, "chemprot_text_ppl")].delta)
    assert "non-inferior at margin 0.05" in rec["reason"]
    assert set(rec["blocked"]) == {f"step {s}" for s in STEPS if s not in ok}


def test_a_checkpoint_against_itself_ties_everywhere(lm_pair, shared_data, tmp_path):
    result = sweep(str(lm_pair[0]), [str(lm_pair[0])], TASKS, data_dir=shared_data, limit=40, resamples=200,
                   store_path=tmp_path / "s.sqlite", progress=False)
    for t in result.points[0].comparison.tasks:
        assert (t.delta, t.p_value, tuple(t.ci), t.verdict) == (0.0, 1.0, (0.0, 0.0), "tie")
    assert "no --margin" in result.recommendation["reason"]


def test_cli_writes_sweep_json_and_a_self_contained_report(lm_pair, series, shared_data, tmp_path):
    out = tmp_path / "out"
    code = main(["sweep", str(lm_pair[0]), "--checkpoints", str(series[0].parent / "checkpoint-*"), "--tasks",
                 ",".join(TASKS), "--data-dir", str(shared_data), "--limit", "60", "--resamples", "200", "--margin",
                 "0.05", "--domain", "biomed", "--store", str(tmp_path / "s.sqlite"), "--out", str(out),
                 "--no-progress"])
    assert code == 0
    data = json.loads((out / "sweep.json").read_text())
    assert data["schema"] == "dabench.sweep/1" and [c["step"] for c in data["checkpoints"]] == list(STEPS)
    html = (out / "report.html").read_text()
    assert html.count('<svg class="trajectory"') == 2  # one panel per category
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    # every checkpoint's per-example rows, published with the sweep by the leaderboard
    lines = [json.loads(line) for line in (out / "examples.jsonl").read_text().splitlines()]
    assert len(lines) == sum(t["n"] for c in data["checkpoints"] for t in c["comparison"]["tasks"])
    assert {ln["checkpoint"] for ln in lines} == {c["name"] for c in data["checkpoints"]}
    (added,) = add_records([out / "sweep.json"], tmp_path / "lb")
    assert added.path.with_name(added.id + ".examples.jsonl").read_bytes() == (out / "examples.jsonl").read_bytes()
    command = shlex.split(sweep_command(data))
    assert command[:3] == ["dabench", "sweep", str(lm_pair[0])] and "--margin" in command and "--limit" in command
    assert command[3:3 + len(STEPS)] == [c["path"] for c in data["checkpoints"]]


def test_ordering_and_bad_input(tmp_path):
    for step in (100, 20):
        (tmp_path / f"checkpoint-{step}").mkdir()
    assert checkpoint_step(str(tmp_path / "checkpoint-20")) == 20
    assert [s for _, s in ordered_checkpoints([], str(tmp_path / "checkpoint-*"))] == [20, 100]
    assert main(["sweep", "base", "--checkpoints", str(tmp_path / "nothing-*"), "--tasks", "sst2"]) == 2
