"""``lmeval:<task>`` through dabench's engine and store: the same per-sample answers, prompts
and metrics as lm-eval's own ``hf`` model run from its CLI, and resumable from the store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dabench.executors import LocalExecutor
from dabench.handles import ModelHandle
from dabench.lmeval.bridge import builtin_task_dirs, task_manager
from dabench.lmeval.compare import LmevalPlan
from dabench.lmeval.samples import read_output_dir
from dabench.orchestrator import _run_group, _StoreSink
from dabench.progress import NullProgress
from dabench.store import Store
from tests.lmeval.conftest import LIMIT, TASKS

NAMES = [f"lmeval:{t}" for t in TASKS.split(",")]


def _base_side(plan, checkpoint, store):
    """The base side of ``plan`` on a fresh handle, as the orchestrator runs it."""
    handle = ModelHandle(str(checkpoint), "hf", {"batch_size": 8})
    _run_group({"base": handle}, [plan], _StoreSink(store, NullProgress()), LocalExecutor())
    return handle


def _stored(store, handle, plan):
    return {t: store.get(handle.fingerprint(), k) for t, k in plan.requests.keys.items()}


@pytest.fixture(scope="module")
def bridged(lm_pair, lmeval_tasks, tmp_path_factory):
    plan = LmevalPlan(NAMES, include_path=[lmeval_tasks], limit=LIMIT)
    store = Store(tmp_path_factory.mktemp("bridge") / "s.sqlite")
    handle = _base_side(plan, lm_pair[0], store)
    return plan, handle, store, lm_pair[0]


def test_bridge_matches_lmeval_cli(bridged, lmeval_outputs):
    plan, handle, store, _ = bridged
    results = plan.results["base"]
    ref = read_output_dir(lmeval_outputs["base"]).tasks
    assert set(results["samples"]) == set(ref) == set(TASKS.split(","))
    for task, run in ref.items():
        ours = {s["doc_id"]: s for s in results["samples"][task]}
        assert len(ours) == len(run.samples) == LIMIT
        for s in run.samples:
            o = ours[s["doc_id"]]
            assert o["prompt_hash"] == s["prompt_hash"] and o["doc_hash"] == s["doc_hash"]
            for m in s["metrics"]:
                assert o[m] == s[m], (task, s["doc_id"], m)
            if task == "dab_chemprot_gen":
                assert o["filtered_resps"] == s["filtered_resps"]
            else:
                a = np.array([float(x[0]) for x in o["filtered_resps"]])
                b = np.array([float(x[0]) for x in s["filtered_resps"]])
                assert np.abs(a - b).max() < 1e-4
                assert [str(x[1]) for x in o["filtered_resps"]] == [str(x[1]) for x in s["filtered_resps"]]
        lm_acc = json.loads(next(lmeval_outputs["base"].rglob("results_*.json")).read_text())["results"][task]
        metric = run.samples[0]["metrics"][0]
        assert results["results"][task][f"{metric},none"] == pytest.approx(lm_acc[f"{metric},none"])
    assert handle.loaded
    assert sum(len(docs) for docs in _stored(store, handle, plan).values()) == 3 * LIMIT


def test_requests_are_collected_before_any_model_loads(bridged):
    """Planning runs lm-eval's loop with no model: every document of every task is known, keyed
    ``kind:doc_id``, with its requests in lm-eval's order."""
    plan, *_ = bridged
    assert set(plan.requests.docs) == set(TASKS.split(","))
    for task, docs in plan.requests.docs.items():
        assert len(docs) == LIMIT
        kind = "generate_until" if task == "dab_chemprot_gen" else "loglikelihood"
        assert all(d.startswith(kind + ":") for d in docs)


def test_second_run_comes_from_the_store(bridged):
    plan, _, store, checkpoint = bridged
    again = LmevalPlan(NAMES, include_path=plan.include_path, limit=LIMIT)
    handle = _base_side(again, checkpoint, store)
    assert not handle.loaded
    assert len(again.results["base"]["samples"]["dab_chemprot"]) == LIMIT
    assert again.results["base"]["results"] == plan.results["base"]["results"]
    runs = {r["task"]: r for r in store.runs()}
    assert runs["lmeval:dab_chemprot"]["stored"] == LIMIT


def test_stale_answers_are_recomputed(bridged):
    """A stored answer whose request hash differs (changed prompt) is not served."""
    plan, handle, store, checkpoint = bridged
    key = plan.requests.keys["dab_chemprot"]
    fp = handle.fingerprint()
    rec = store.get(fp, key)["loglikelihood:0"]
    store.put_many(fp, key, [("loglikelihood:0", {**rec, "hash": "stale"})])
    again = LmevalPlan(["lmeval:dab_chemprot"], include_path=plan.include_path, limit=LIMIT)
    fresh = _base_side(again, checkpoint, store)
    assert fresh.loaded
    redone = store.get(fp, key)["loglikelihood:0"]
    assert redone["hash"] == rec["hash"]  # recomputed alone, not in a batch of 8: equal up to float rounding
    np.testing.assert_allclose([r[0] for r in redone["resps"]], [r[0] for r in rec["resps"]], rtol=1e-5)


def test_builtin_tasks_found_without_indexing_everything():
    dirs = builtin_task_dirs(["lmeval:pubmedqa", "medmcqa"])
    assert {d.name for d in dirs} >= {"pubmedqa", "medmcqa"}
    tm = task_manager(["lmeval:pubmedqa"])
    assert "pubmedqa" in tm.all_tasks and len(tm.all_tasks) < 200


def test_unknown_task(lmeval_tasks):
    from dabench.errors import TaskError

    with pytest.raises(TaskError, match="unknown lm-eval task lmeval:no_such_task_xyz"):
        task_manager(["lmeval:no_such_task_xyz"], [lmeval_tasks])
