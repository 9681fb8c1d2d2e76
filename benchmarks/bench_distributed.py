"""The Ray executor's costs and gains, measured with dabench's own code in one process.

1. **scheduling overhead**: ``--units`` work units whose job costs nothing, run by the Ray
   executor (2 actors, one per side) against the local executor: the Ray executor's overhead
   per unit, and at the end ``ratio=<overhead / the time of a real 64-example unit>``.
2. **throughput**: a real comparison (``sst2`` and ``chemprot``, prompted, the GPT-2 of
   ``bench_engine.py``) whose base records are stored, so one model computes: with
   ``--workers 1`` and ``--workers 2`` Ray actors, each one CPU (or ``--gpus-per-worker`` of a
   GPU with ``--device cuda``); prints both times and ``ratio=<1-worker time / 2-worker
   time>``. Both comparisons are checked to equal the local executor's.

Usage: ``python benchmarks/bench_distributed.py [--units 400] [--limit 256] [--layers 4] [--width 256]
[--device cpu|cuda] [--gpus-per-worker 0.25]``

Measured: see benchmarks/results/distributed.txt.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a local Ray binds to 127.0.0.1
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import DEFAULT_DATA, build_model  # noqa: E402


class _Sink:
    """Counts finished units (the orchestrator's sink without a store)."""

    def __init__(self) -> None:
        from dabench.progress import NullProgress

        self.progress = NullProgress()
        self.done_units = 0

    def advance(self, unit: Any, n: int) -> None:
        pass

    def done(self, unit: Any, records: Any) -> None:
        self.done_units += 1


class _EmptyJob:
    """A job that computes nothing: the unit's cost is the executor's alone."""

    def __call__(self, handle: Any, ids: Sequence[str], progress: Any, advance: Any) -> list[tuple[str, Any]]:
        return [(i, {"pred": 0}) for i in ids]


def overhead(model: Path, units: int) -> float:
    from dabench.executors import LocalExecutor
    from dabench.executors.ray import RayExecutor
    from dabench.handles import ModelHandle
    from dabench.work import WorkUnit

    handles = {"base": ModelHandle(str(model), "hf", {}), "adapted": ModelHandle(str(model), "hf", {})}
    job = _EmptyJob()
    work = [WorkUnit(role, "fp-" + role, "bench", "t", "rk", 0, k, (f"e{k}",), job)
            for k in range(units // 2) for role in ("base", "adapted")]
    times = {}
    for name, ex in (("local", LocalExecutor()), ("ray", RayExecutor(workers=1, cpus_per_worker=0.5))):
        sink = _Sink()
        if name == "ray":  # start the actors first: their start-up is paid once per run, not per unit
            ex.execute(work[:2], handles, _Sink())
        start = time.perf_counter()
        ex.execute(work, handles, sink)
        times[name] = time.perf_counter() - start
        assert sink.done_units == len(work)
        ex.release(handles)
        ex.close()
    per_unit = (times["ray"] - times["local"]) / len(work) * 1000
    print(f"scheduling: {len(work)} empty units, local {times['local']:.3f} s, ray {times['ray']:.3f} s: "
          f"overhead {per_unit:.2f} ms per unit")
    return per_unit


def throughput(models: tuple[Path, Path], data: Path, limit: int, device: str, gpus: float) -> float:
    """The adapted model's side with 1 and 2 actors (the base's records are stored, so only one
    model computes and each actor has a CPU of its own)."""
    import shutil

    import dabench
    from dabench.executors import LocalExecutor
    from dabench.executors.ray import RayExecutor
    from dabench.store import Store

    def run(store: Path, executor: Any) -> Any:
        return dabench.compare(str(models[0]), str(models[1]), ["sst2", "chemprot"], data_dir=data, limit=limit,
                               resamples=1000, store_path=store, progress=False, executor=executor,
                               engine_options={"device": device, "batch_size": 16})

    results, times, unit_ms = {}, {}, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.sqlite"
        start = time.perf_counter()
        reference = run(warm, LocalExecutor())
        print(f"  local executor, both models from scratch: {time.perf_counter() - start:.1f} s")
        with Store(warm) as s:
            s.drop(model_fp=reference.adapted.fingerprint)
        for workers in (1, 2):
            store = Path(tmp) / f"s{workers}.sqlite"
            shutil.copy(warm, store)
            ex = RayExecutor(workers=workers, cpus_per_worker=1, gpus_per_worker=gpus)
            start = time.perf_counter()
            comp = run(store, ex)
            times[workers] = time.perf_counter() - start
            results[workers] = [(t.task, t.base, t.adapted, t.delta) for t in comp.tasks]
            loads = sorted(len(a["loads"]) for a in ex.actor_info)
            if workers == 1:
                unit_ms = ex.worker_seconds / max(ex.units_run, 1) * 1000
            print(f"  {workers} worker(s): {times[workers]:.1f} s, {ex.units_run} units, "
                  f"{ex.worker_seconds:.1f} worker-s, weight loads per actor {loads}")
    assert results[1] == results[2] == [(t.task, t.base, t.adapted, t.delta) for t in reference.tasks]
    print(f"throughput: the adapted model on {limit} examples x 2 tasks on {device}: 1 worker {times[1]:.1f} s, "
          f"2 workers {times[2]:.1f} s ratio={times[1] / times[2]:.2f}")
    return unit_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--limit", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--gpus-per-worker", type=float, default=0.0)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        base = build_model(Path(tmp) / "base", args.data, layers=args.layers, width=args.width, seed=0)
        adapted = build_model(Path(tmp) / "adapted", args.data, layers=args.layers, width=args.width, seed=1)
        ray.init(include_dashboard=False, log_to_driver=False, num_cpus=max(os.cpu_count() or 2, 4))
        try:
            per_unit = overhead(base, args.units)
            unit_ms = throughput((base, adapted), args.data, args.limit, args.device, args.gpus_per_worker)
            print(f"overhead: {per_unit:.2f} ms per unit against {unit_ms:.0f} ms for a real 64-example unit "
                  f"ratio={per_unit / unit_ms:.4f}")
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()
