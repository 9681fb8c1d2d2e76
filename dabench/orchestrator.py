"""One orchestrator for every kind of comparison.

A kind (prompted tasks, intrinsic perplexity, ``lmeval:`` tasks, fine-tune, probe) plans its tasks
before any model loads into a :class:`KindPlan`; :func:`run_plans` computes only the records the
store lacks (through an executor, committing unit by unit), tests every plan, corrects once over
every task and builds one :class:`~dabench.comparison.Comparison`.
"""

from __future__ import annotations

import time
from itertools import zip_longest
from typing import Any, Iterator, Mapping, Protocol, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, TaskResult, created_now
from dabench.errors import DabenchError
from dabench.executors import Executor, LocalExecutor
from dabench.handles import ModelHandle
from dabench.progress import Progress, progress_context
from dabench.store import Store
from dabench.verdicts import apply_verdicts
from dabench.work import Records, Run, WorkUnit, in_shard, units_of


class KindPlan(Protocol):
    """A kind's planned tasks, with every input read and checked; holds its records as it runs."""

    #: the kind's name in ``config.tasks_by_regime`` (``prompt``, ``lm-eval``, ``intrinsic``, …)
    kind: str

    def side(self, role: str, handle: ModelHandle) -> Iterator[list[Run]]:
        """One side's work (``base`` or ``adapted``), stage by stage: each yielded list of runs
        has its ``records`` filled in when the generator resumes (a later stage may depend on an
        earlier one's records, e.g. the template a side chose on validation data)."""

    def test(self) -> list[tuple[TaskResult, Any]]:
        """Each task's result (before multiplicity correction) and its paired test result."""

    def config(self, results: Sequence[TaskResult]) -> dict[str, Any]:
        """This kind's part of ``Comparison.config``."""

    def signature(self, results: Sequence[TaskResult], infos: dict[str, ModelInfo]) -> dict[str, Any]:
        """This kind's part of ``Comparison.signature``."""


def stats_settings(plan: Any, *, with_margin: bool = True) -> dict[str, Any]:
    """The statistics settings every kind records, in config (with the margin) and signature
    (without it: a margin changes decisions, not the numbers): one place for their names."""
    names = ("seed", "resamples", "alpha", "margin", "correction")
    return {name: getattr(plan, name) for name in names if with_margin or name != "margin"}


def spec_config(plan: Any, **own: Any) -> dict[str, Any]:
    """The config entries of a kind planned from task specs (``plan.specs``, ``root``, ``limit``,
    ``domain``), with the kind's ``own`` entries before the statistics settings."""
    return {"tasks": [s.name for s in plan.specs], "data_dir": str(plan.root) if plan.root else None,
            "limit": plan.limit, **own, **stats_settings(plan), "domain": plan.domain}


def spec_signature(plan: Any, data_hashes: dict[str, Any], infos: Mapping[str, ModelInfo], **own: Any
                   ) -> dict[str, Any]:
    """The signature entries of a kind planned from task specs, ``own`` before the statistics settings."""
    return {"task_hashes": {s.name: s.spec_hash() for s in plan.specs}, "data_hashes": data_hashes,
            "fingerprints": {"base": infos["base"].fingerprint, "adapted": infos["adapted"].fingerprint},
            **own, **stats_settings(plan, with_margin=False)}


def run_plans(
    handles: tuple[ModelHandle, ModelHandle],
    plans: Sequence[KindPlan],
    *,
    store_path: Any,
    progress: bool | Progress,
    correction: str,
    alpha: float,
    margin: float | None,
    executor: Executor | None = None,
    shard: tuple[int, int] | None = None,
) -> Comparison:
    """Run ``plans`` on the two handles through ``executor`` (default: in this process, one side
    after the other), test, correct once over every task, and build the Comparison.

    ``shard=(i, n)``: only the units of batch shard ``i`` of ``n`` run; unless the store then
    holds every record, :class:`ShardComputed` is raised instead of comparing."""
    executor = executor or LocalExecutor()
    by_role = dict(zip(ROLES, handles))
    groups = [ROLES] if executor.together else [(role,) for role in ROLES]
    start = time.perf_counter()
    with progress_context(progress) as prog:
        store = Store(store_path)
        sink = _StoreSink(store, prog, shard)
        try:
            for roles in groups:
                group = {role: by_role[role] for role in roles}
                try:
                    _run_group(group, plans, sink, executor)
                finally:
                    executor.release(group)
        finally:
            executor.close()
            store.close()
        prog.note(sink.summary(time.perf_counter() - start, getattr(executor, "worker_seconds", None)))
    if sink.incomplete and shard is not None:
        raise ShardComputed(f"shard {shard[0]}/{shard[1]}: {sink.units} work unit(s) computed ({sink.computed} records) "
                            f"into {store.path}; the other shards' records are not in it yet: merge the shard stores "
                            "(dabench store merge OUT.sqlite SHARD.sqlite...) and run the command again without "
                            "--shard to compare")
    tested = [(plan, t) for plan in plans for t in plan.test()]
    results = apply_verdicts([t for _, t in tested], correction=correction, alpha=alpha, margin=margin)
    by_plan = [[r for (p, _), r in zip(tested, results) if p is plan] for plan in plans]
    infos = {"base": handles[0].info(), "adapted": handles[1].info()}
    parts = [(plan, plan.config(rs), plan.signature(rs, infos)) for plan, rs in zip(plans, by_plan)]
    config, signature = _merged(parts, results)
    return Comparison(base=infos["base"], adapted=infos["adapted"], config=config, tasks=results,
                      signature={"dabench_version": __version__, **signature}, dabench_version=__version__,
                      created=created_now())


ROLES = ("base", "adapted")


def _run_group(handles: Mapping[str, ModelHandle], plans: Sequence[KindPlan], sink: _StoreSink,
               executor: Executor) -> None:
    """Every plan's work for these sides, stage by stage: the runs of a stage are settled from
    the store, what is missing goes to the executor, and the plans resume with their records."""
    active = [(role, plan.side(role, handle)) for role, handle in handles.items() for plan in plans]
    while active:
        stage: list[tuple[str, Run]] = []
        still = []
        for role, steps in active:
            try:
                runs = next(steps)
            except StopIteration:
                continue
            stage.extend((role, run) for run in runs)
            still.append((role, steps))
        if stage and not _settle(stage, handles, sink, executor):
            sink.incomplete = True  # a --shard run: the later stages need the other shards' records
            return
        active = still


class ShardComputed(Exception):
    """A ``--shard I/N`` run computed its units, and the store lacks other shards' records, so
    there is nothing to compare yet (not an error: the batch job did its part)."""


def _settle(stage: Sequence[tuple[str, Run]], handles: Mapping[str, ModelHandle], sink: _StoreSink,
            executor: Executor) -> bool:
    """Fill every run's records: what the store holds, the rest computed as work units (both
    arms of a shard side by side in the queue) and committed unit by unit as they arrive.
    False when a ``--shard`` run left records to the other shards."""
    store = sink.store
    per_role: dict[str, list[WorkUnit]] = {}
    for role, run in stage:
        fp = handles[role].fingerprint()
        store.register_run(fp, run.run_key, seed=run.seed, model_name=run.info.model_name, task=run.info.task,
                           spec_hash=run.info.spec_hash, config=run.info.config, n_examples=len(run.ids))
        stored = store.get(fp, run.run_key, seed=run.seed)
        units = units_of(run, role, fp, stored)
        todo = {i for u in units for i in u.ids}
        run.records = {i: r for i, r in stored.items() if i not in todo}
        sink.track(run, units, len(run.ids) - len(todo))
        if sink.shard is not None:
            units = [u for u in units if in_shard(u, *sink.shard)]
        per_role.setdefault(role, []).extend(units)
    queue = [u for pair in zip_longest(*per_role.values()) for u in pair if u is not None]
    if queue:
        sink.count_units(per_role)
        executor.execute(queue, handles, sink)
    for _, run in stage:
        lost = [i for i in run.ids if i not in run.records]
        if lost and sink.shard is not None:
            return False
        if lost:
            raise DabenchError(f"task {run.task!r}: {len(lost)} record(s) of run {run.run_key} were never computed "
                               f"(first: {lost[0]}); run the command again to resume")
    return True


class _StoreSink:
    """Commits each finished unit's records to the store at once and fills its run."""

    def __init__(self, store: Store, progress: Progress, shard: tuple[int, int] | None = None) -> None:
        self.store = store
        self.progress = progress
        self.shard = shard
        #: units run, records computed, records found stored
        self.units = self.computed = self.reused = 0
        #: a --shard run stopped at a stage whose other shards' records are missing
        self.incomplete = False
        self._unit_bars: dict[str, Any] = {}
        #: each expected unit's run and progress bar
        self._runs: dict[tuple[str, str, int, str], tuple[Run, Any]] = {}

    @staticmethod
    def _key(unit: WorkUnit) -> tuple[str, str, int, str]:
        return unit.checkpoint, unit.run_key, unit.seed, unit.role

    def track(self, run: Run, units: Sequence[WorkUnit], settled: int) -> None:
        """Expect ``units`` of ``run``; its bar starts at the ``settled`` examples already stored."""
        bar = self.progress.task(run.label, len(run.ids)) if run.label is not None else (lambda n: None)
        self.reused += settled
        if settled:
            bar(settled)
        for unit in units:
            self._runs[self._key(unit)] = (run, bar)

    def advance(self, unit: WorkUnit, n: int) -> None:
        self._runs[self._key(unit)][1](n)

    def done(self, unit: WorkUnit, records: Records) -> None:
        got = dict(records)
        lost = [i for i in unit.ids if i not in got]
        if lost:
            raise DabenchError(f"task {unit.task!r}: a work unit returned no record for {len(lost)} example(s) "
                               f"(first: {lost[0]})")
        self.store.put_many(unit.checkpoint, unit.run_key, list(got.items()), seed=unit.seed)
        self._runs[self._key(unit)][0].records.update(got)
        self.units += 1
        self.computed += len(unit.ids)
        if unit.role in self._unit_bars:
            self._unit_bars[unit.role](1)

    def count_units(self, per_role: Mapping[str, Sequence[WorkUnit]]) -> None:
        """A bar per model counting its work units (they finish in any order on a cluster)."""
        for role, units in per_role.items():
            if units:
                self._unit_bars[role] = self.progress.task(f"{role} · work units", len(units))

    def summary(self, wall: float, worker_seconds: float | None) -> str:
        """What the run cost: units, records computed and reused, wall time and worker time."""
        busy = f", {worker_seconds:.1f} worker-s" if worker_seconds is not None else ""
        return (f"{self.units} work unit(s): {self.computed} record(s) computed, {self.reused} reused from the store; "
                f"{wall:.1f} s wall{busy}")


def _merged(parts: Sequence[tuple[KindPlan, dict[str, Any], dict[str, Any]]], results: Sequence[TaskResult]
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """One kind: its own config and signature. Several: the first kind's, with the others'
    settings added, ``tasks`` in result order and ``tasks_by_regime`` saying which task ran how."""
    first, config, signature = parts[0]
    if len(parts) == 1:
        return config, signature
    config = dict(config)
    signature = dict(signature)
    for _, cfg, sig in parts[1:]:
        for key, value in cfg.items():
            config.setdefault(key, value)
        for key, value in sig.items():
            if isinstance(value, dict) and isinstance(signature.get(key), dict):
                signature[key] = {**signature[key], **value}
            else:
                signature.setdefault(key, value)
    config["tasks"] = [r.task for r in results]
    config["tasks_by_regime"] = {plan.kind: list(cfg["tasks"]) for plan, cfg, _ in parts}
    config["regime"] = "prompt"
    signature.pop("regime", None)
    return config, signature
