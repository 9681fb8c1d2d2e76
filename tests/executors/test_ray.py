"""The Ray executor on a real 3-node Ray cluster (``ray.cluster_utils.Cluster``, every node on
127.0.0.1): the local executor's numbers exactly with 1 and 3 workers, each checkpoint loaded at
most once per actor, killed actors replaced with the same numbers, a deterministic failure one
line and exit code 2, and a killed driver resumed from the store."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every Ray node binds to 127.0.0.1

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

import dabench  # noqa: E402
from dabench.errors import DabenchError  # noqa: E402
from dabench.executors import LocalExecutor  # noqa: E402
from dabench.executors.ray import RayExecutor  # noqa: E402
from tests.regimes import FAST  # noqa: E402

MIXED = ["sst2", "sst2_text_ppl"]  # a prompted and an intrinsic task in one run
#: actors compute with this process's thread count: the same float sums as the local run on any CPU
THREADS = torch.get_num_threads()


@pytest.fixture(scope="module")
def cluster():
    """A head and two more nodes, 2 logical CPUs each; stopped after the module."""
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    for _ in range(2):
        c.add_node(num_cpus=2)
    c.wait_for_nodes()
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


def _comparable(comp: dabench.Comparison) -> dict[str, Any]:
    """The comparison without what a clock says (its date, each training run's seconds)."""
    data = json.loads(comp.to_json())
    data.pop("created", None)
    for task in data["tasks"]:
        for runs in ((task.get("regime") or {}).get("runs") or {}).values():
            for run in runs:
                run.pop("seconds", None)
    return data


def _mixed(lm_pair, shared_data, store, executor, **extra):
    return dabench.compare(str(lm_pair[0]), str(lm_pair[1]), MIXED, data_dir=shared_data, limit=80, resamples=200,
                           store_path=store, executor=executor, **{"progress": False, **extra})


def test_prompted_and_intrinsic_numbers_equal_the_local_run(cluster, lm_pair, shared_data, tmp_path):
    local = _mixed(lm_pair, shared_data, tmp_path / "local.sqlite", LocalExecutor())
    for workers in (1, 3):
        ex = RayExecutor(address=cluster.address, workers=workers, threads=THREADS)
        comp = _mixed(lm_pair, shared_data, tmp_path / f"ray{workers}.sqlite", ex)
        assert _comparable(comp) == _comparable(local), workers
        # 2 tasks x 2 shards of 80 ids, per side; each actor loaded each checkpoint at most once
        assert ex.units_run == 8
        used = [a for a in ex.actor_info if a["loads"]]
        assert used and len(ex.actor_info) == 2 * workers
        for actor in ex.actor_info:
            assert len(actor["loads"]) == len(set(actor["loads"])) <= 1, actor
        if workers == 3:
            assert len({a["node"] for a in used}) > 1, "the actors were spread over the cluster's nodes"


def test_finetune_numbers_equal_the_local_run(cluster, bert_pair, tmp_path, shared_data):
    options = dict(FAST, seeds=2, epochs=2, limit=40, train_limit=80, dev_limit=20, resamples=200)
    base, adapted = (str(p) for p in bert_pair)
    local = dabench.compare(base, adapted, ["chemprot_inhibitor"], regime="finetune", data_dir=shared_data,
                            store_path=tmp_path / "local.sqlite", progress=False, executor=LocalExecutor(), **options)
    for workers in (1, 3):
        ex = RayExecutor(address=cluster.address, workers=workers, threads=THREADS)
        comp = dabench.compare(base, adapted, ["chemprot_inhibitor"], regime="finetune", data_dir=shared_data,
                               store_path=tmp_path / f"ray{workers}.sqlite", progress=False, executor=ex, **options)
        assert _comparable(comp) == _comparable(local), workers
        assert ex.units_run == 4  # one unit per (side, seed)


class _KillOnFirstUnit:
    """Progress that kills every actor of the executor when the first unit finishes (the other
    units are then in flight or queued), once."""

    def __init__(self) -> None:
        self.executor: RayExecutor | None = None
        self.killed = 0

    def task(self, description: str, total: int):
        def advance(n: int) -> None:
            if n and self.executor is not None and not self.killed:
                for actor in self.executor.actors():
                    ray.kill(actor, no_restart=True)
                    self.killed += 1
        return advance

    def note(self, message: str) -> None:
        pass


def test_killed_actors_are_replaced_and_the_numbers_are_the_same(cluster, lm_pair, shared_data, tmp_path):
    local = _mixed(lm_pair, shared_data, tmp_path / "local.sqlite", LocalExecutor())
    ex = RayExecutor(address=cluster.address, workers=2, threads=THREADS)
    killer = _KillOnFirstUnit()
    killer.executor = ex
    comp = _mixed(lm_pair, shared_data, tmp_path / "ray.sqlite", ex, progress=killer)
    assert killer.killed == 4  # 2 actors per side
    assert ex.retries >= 1, "units in flight on the killed actors were run again"
    assert _comparable(comp) == _comparable(local)


def test_a_unit_that_fails_deterministically_stops_with_one_line(cluster, lm_pair, shared_data, tmp_path):
    """A model that cannot load on the workers (its weights do not fit its config) fails the
    run with the job's own error, once, not after retries; exit code 2 on the command line."""
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in Path(lm_pair[1]).iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    config = json.loads((broken / "config.json").read_text())
    config["n_embd"] = config["n_embd"] * 2  # the weights no longer match the architecture
    (broken / "config.json").write_text(json.dumps(config))
    ex = RayExecutor(address=cluster.address, workers=1)
    with pytest.raises(DabenchError) as err:
        dabench.compare(str(lm_pair[0]), str(broken), ["sst2"], data_dir=shared_data, limit=20, resamples=200,
                        store_path=tmp_path / "s.sqlite", progress=False, executor=ex)
    # the job's own error, as a local run raises it: it names the checkpoint
    assert "\n" not in str(err.value) and f"{broken}: model weights cannot be loaded" in str(err.value)
    assert ex.retries == 0
    cli = subprocess.run([sys.executable, "-m", "dabench", "compare", str(lm_pair[0]), str(broken), "--tasks", "sst2",
                          "--data-dir", str(shared_data), "--limit", "20", "--resamples", "200", "--store",
                          str(tmp_path / "s.sqlite"), "--executor", "ray", "--ray-address", cluster.address, "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert cli.returncode == 2, cli.stderr
    lines = [ln for ln in cli.stderr.splitlines() if ln.startswith("dabench:")]
    assert len(lines) == 1 and "Traceback" not in cli.stderr, cli.stderr


def _records(store: Path) -> dict[tuple[str, str, str, int], float]:
    with sqlite3.connect(store) as db:
        return {tuple(r[:4]): r[4] for r in db.execute(
            "SELECT model_fp, run_key, example_id, seed, created FROM records")}


def test_a_killed_driver_resumes_without_recomputing(cluster, lm_pair, shared_data, tmp_path):
    store = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "dabench", "compare", str(lm_pair[0]), str(lm_pair[1]), "--tasks", ",".join(MIXED),
           "--data-dir", str(shared_data), "--limit", "200", "--resamples", "200", "--store", str(store),
           "--executor", "ray", "--ray-address", cluster.address, "--out", str(tmp_path / "out")]
    driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and driver.poll() is None:
        if store.exists() and len(_records(store)) >= 64:
            break
        time.sleep(0.2)
    assert driver.poll() is None, "the driver finished before it could be killed; raise --limit"
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    before = _records(store)
    assert 0 < len(before) < 2 * 2 * 200
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _records(store)
    assert len(after) == 2 * 2 * 200
    assert all(after[k] == created for k, created in before.items()), "a committed record was computed again"


def test_actors_that_cannot_all_be_placed_are_refused_up_front(cluster, lm_pair, shared_data, tmp_path):
    """Both sides' actors run at once: asking for more GPUs (or CPUs) than the cluster has would
    wait for ever, so it is one clear error before any actor starts."""
    for ex, what in ((RayExecutor(address=cluster.address, gpus_per_worker=1), "0 GPUs"),
                     (RayExecutor(address=cluster.address, workers=4, cpus_per_worker=1), "6 CPUs")):
        with pytest.raises(DabenchError, match=what):
            _mixed(lm_pair, shared_data, tmp_path / "s.sqlite", ex)
        assert ex.actor_info == []
