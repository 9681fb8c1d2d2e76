"""End-to-end compare on real shared-data slices with small models built in the tests."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dabench
from dabench.pipeline import compare

TASKS = ["sst2", "rte", "chemprot"]
CONTRACT_TASK_FIELDS = {"task", "category", "metric", "n", "base", "adapted", "delta", "ci", "p_value", "p_adjusted", "verdict"}


@pytest.fixture(scope="module")
def pair_comparison(lm_pair, shared_data, tmp_path_factory):
    base, adapted = lm_pair
    store = tmp_path_factory.mktemp("store") / "store.sqlite"
    comp = compare(str(base), str(adapted), TASKS, data_dir=shared_data, limit=60, resamples=2000,
                   store_path=store, progress=False)
    return comp, store


def test_comparison_json_contract(pair_comparison):
    comp, _ = pair_comparison
    data = json.loads(comp.to_json())
    assert data["schema"] == "dabench.comparison/1"
    assert {"base", "adapted", "config", "tasks", "summary"} <= set(data)
    assert [t["task"] for t in data["tasks"]] == TASKS
    for t in data["tasks"]:
        assert CONTRACT_TASK_FIELDS <= set(t)
        assert t["n"] == 60
        assert t["delta"] == pytest.approx(t["adapted"] - t["base"])
        assert t["ci"][0] <= t["delta"] <= t["ci"][1]
        assert 0 < t["p_value"] <= 1 and t["p_value"] <= t["p_adjusted"] <= 1
        assert t["verdict"] in ("win", "tie", "loss")
    assert data["tasks"][2]["category"] == "in-domain" and data["tasks"][0]["category"] == "out-of-domain"
    assert sum(data["summary"][v] for v in ("win", "tie", "loss")) == 3


def test_scores_match_sklearn(pair_comparison, shared_data):
    """The reported chemprot scores are sklearn's micro-F1 of the stored predictions."""
    from sklearn.metrics import f1_score

    from dabench.registry import get_registry
    from dabench.runner import plan_task, predictions
    from dabench.store import Store

    comp, store_path = pair_comparison
    spec = get_registry().get("chemprot")
    plan = plan_task(spec, shared_data, limit=60)
    with Store(store_path) as store:
        for role in ("base", "adapted"):
            recs = store.get(getattr(comp, role).fingerprint, plan.run_key)
            preds = predictions([recs[ex.id] for ex in plan.examples])
            ref = f1_score(plan.references(), preds, average="micro", labels=range(13))
            assert getattr(comp.task("chemprot"), role) == pytest.approx(ref, abs=1e-12)


def test_model_against_itself_is_a_tie(lm_pair, shared_data, tmp_path):
    base, _ = lm_pair
    comp = dabench.compare(str(base), str(base), TASKS, data_dir=shared_data, limit=40, resamples=1000,
                           store_path=tmp_path / "s.sqlite", progress=False)
    for t in comp.tasks:
        assert t.delta == 0.0
        assert t.p_value == 1.0 and t.p_adjusted == 1.0
        assert t.ci == [0.0, 0.0]
        assert t.verdict == "tie"


def test_second_candidate_reuses_base_records(lm_pair, shared_data, tmp_path, monkeypatch):
    base, adapted = lm_pair
    store = tmp_path / "s.sqlite"
    compare(str(base), str(adapted), ["rte"], data_dir=shared_data, limit=30, resamples=500, store_path=store, progress=False)
    loaded: list[str] = []
    import dabench.handles as cmp

    real = cmp.load_engine
    monkeypatch.setattr(cmp, "load_engine", lambda kind, ckpt, **kw: loaded.append(ckpt) or real(kind, ckpt, **kw))
    compare(str(base), str(adapted), ["rte"], data_dir=shared_data, limit=30, resamples=500, store_path=store, progress=False)
    assert loaded == []  # everything came from the store


def _records(store: Path) -> dict[tuple, float]:
    with sqlite3.connect(store) as c:
        return {(fp, rk, eid): created for fp, rk, eid, created in c.execute("SELECT model_fp, run_key, example_id, created FROM records")}


def test_killed_run_resumes_without_recomputing(lm_pair, shared_data, tmp_path):
    base, adapted = lm_pair
    store = tmp_path / "store.sqlite"
    args = [sys.executable, "-m", "dabench", "compare", str(base), str(adapted), "--tasks", "chemprot",
            "--data-dir", str(shared_data), "--limit", "200", "--resamples", "500", "--store", str(store),
            "--no-progress", "--batch-size", "4"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(args + ["--out", str(tmp_path / "killed")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.2)
        if store.exists():
            try:
                if len(_records(store)) >= 64:
                    break
            except sqlite3.OperationalError:
                pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _records(store)
    assert 64 <= len(before) < 400, "the run was not interrupted part-way"

    done = subprocess.run(args + ["--out", str(tmp_path / "resumed"), "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    after = _records(store)
    assert len(after) == 400
    assert all(after[k] == v for k, v in before.items()), "stored examples were recomputed"

    fresh = subprocess.run(args[:-2] + ["--store", str(tmp_path / "fresh.sqlite"), "--out", str(tmp_path / "fresh"), "--json"],
                           env=env, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    strip = lambda d: [{k: v for k, v in t.items()} for t in d["tasks"]]  # noqa: E731
    assert strip(json.loads(done.stdout)) == strip(json.loads(fresh.stdout))
