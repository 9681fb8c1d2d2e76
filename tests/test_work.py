"""Work units and the executor seam: shards fixed by example ids, only missing records become
work, and any executor that runs the units — in any order, in another process's copy — gives
the local executor's numbers exactly."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import dabench
from dabench.errors import DabenchError
from dabench.executors import LocalExecutor, make_executor
from dabench.progress import NullProgress
from dabench.store import RunInfo, Store
from dabench.work import Run, in_shard, units_of

TASKS = ["sst2", "sst2_text_ppl"]  # a prompted and an intrinsic task: two kinds, one run


def _run(ids: list[str], shard_size: int | None = 4) -> Run:
    return Run(kind="k", task="t", label="t", run_key="rk", ids=ids, job=lambda *a: [],
               info=RunInfo("m", "t", "h", {}), shard_size=shard_size)


def test_shards_are_fixed_slices_of_the_ids_and_only_missing_records_become_units():
    ids = [f"e{i}" for i in range(10)]
    run = _run(ids)
    assert run.shards() == [ids[0:4], ids[4:8], ids[8:10]]
    stored = {i: {} for i in ids[:5]}  # the first shard and one id of the second are stored
    units = units_of(run, "base", "fp", stored)
    assert [(u.shard, u.ids) for u in units] == [(1, tuple(ids[5:8])), (2, tuple(ids[8:10]))]
    # the unit's identity is its place in the run, not what happened to be stored
    assert units[0].key == units_of(run, "base", "fp", {})[1].key
    assert units_of(run, "base", "fp", {i: {} for i in ids}) == []


def test_a_run_stored_whole_is_recomputed_whole():
    ids = ["a", "b", "#meta"]
    units = units_of(_run(ids, shard_size=None), "base", "fp", {"a": {}})
    assert [u.ids for u in units] == [tuple(ids)]


def test_batch_shards_partition_the_units_and_keep_both_arms_together():
    run = _run([f"e{i}" for i in range(200)])
    base = units_of(run, "base", "fp-base", {})
    adapted = units_of(run, "adapted", "fp-adapted", {})
    for n in (1, 3, 7):
        owners = [[i for i in range(n) if in_shard(u, i, n)] for u in base]
        assert all(len(o) == 1 for o in owners)
        assert owners == [[i for i in range(n) if in_shard(u, i, n)] for u in adapted]


def test_unknown_executor_is_one_clear_error():
    with pytest.raises(DabenchError, match="--executor must be one of local"):
        make_executor("nope")


class ReversedCopies:
    """An executor as a remote one behaves: each unit travels as a pickled copy (its job too),
    both sides' units are interleaved, and they finish in reverse order."""

    together = True

    def __init__(self, fail_after: int | None = None) -> None:
        self.ran: list[str] = []
        self.fail_after = fail_after

    def execute(self, units: Any, handles: Any, sink: Any) -> None:
        for unit in reversed(list(units)):
            if self.fail_after is not None and len(self.ran) == self.fail_after:
                raise RuntimeError("worker lost")
            copy = pickle.loads(pickle.dumps(unit))
            self.ran.append(copy.key)
            sink.done(copy, copy.job(handles[copy.role], copy.ids, NullProgress(), lambda n: None))

    def release(self, handles: Any) -> None:
        for handle in handles.values():
            handle.release()

    def close(self) -> None:
        pass


def _compare(lm_pair, shared_data, store, executor):
    return dabench.compare(str(lm_pair[0]), str(lm_pair[1]), TASKS, data_dir=shared_data, limit=80, resamples=200,
                           store_path=store, progress=False, executor=executor)


def _numbers(comp):
    return [(t.task, t.base, t.adapted, t.delta, t.p_value, t.p_adjusted, tuple(t.ci)) for t in comp.tasks]


def test_any_executor_gives_the_local_numbers_and_a_failed_run_resumes(lm_pair, shared_data, tmp_path):
    local = _compare(lm_pair, shared_data, tmp_path / "local.sqlite", LocalExecutor())
    interrupted = ReversedCopies(fail_after=3)
    with pytest.raises(RuntimeError, match="worker lost"):
        _compare(lm_pair, shared_data, tmp_path / "remote.sqlite", interrupted)
    assert len(interrupted.ran) == 3
    resumed = ReversedCopies()
    remote = _compare(lm_pair, shared_data, tmp_path / "remote.sqlite", resumed)
    assert _numbers(remote) == _numbers(local)
    # the committed units were not run again; together they are every unit of the comparison
    assert not set(interrupted.ran) & set(resumed.ran)
    # each task: 80 examples or documents = 2 shards of 64; for each side
    assert len(interrupted.ran) + len(resumed.ran) == 2 * (2 + 2)
    with Store(tmp_path / "local.sqlite") as a, Store(tmp_path / "remote.sqlite") as b:
        assert [(r["model_fp"], r["run_key"], r["stored"]) for r in a.runs()] == \
               [(r["model_fp"], r["run_key"], r["stored"]) for r in b.runs()]


def test_load_groups_keep_an_adapter_and_its_base_on_one_load(lm_pair, shared_data, tmp_path):
    """What a worker rebuilds: unloaded copies, an adapter and its own base still sharing one load."""
    from dabench.handles import load_groups, make_handles
    from tests._builders.checkpoints import build_lora

    adapter = build_lora(lm_pair[0], tmp_path / "lora", shared_data)
    base, adapted = make_handles(str(lm_pair[0]), str(adapter), "hf", {})
    assert base.shares_load and adapted.shares_load
    fp = base.fingerprint(), adapted.fingerprint()
    (group,) = load_groups({"base": base, "adapted": adapted})
    assert set(group) == {"base", "adapted"} and not any(h.loaded for h in group.values())
    assert group["base"]._shared is group["adapted"]._shared is not base._shared
    assert group["base"]._shared.users == 2
    assert (group["base"].fingerprint(), group["adapted"].fingerprint()) == fp
    engine = group["adapted"].get()
    group["base"].get()  # the base side runs on the same load, adapter switched off
    assert group["base"]._shared.engine is engine and not base.loaded and not adapted.loaded
    separate = load_groups({"base": make_handles(str(lm_pair[0]), str(lm_pair[1]), "hf", {})[0]})
    assert len(separate) == 1 and separate[0]["base"]._shared is None
