"""The Ray executor: work units on a Ray cluster, in actors that hold a loaded model.

Per group of sides that share a load, ``workers`` actors load the model on their first unit and
keep it; the driver schedules units in the orchestrator's order and alone writes the store. A unit
whose actor died is retried on a new one (at most ``max_retries`` times); a job's own exception
stops the run with its message.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dabench.errors import DabenchError

if TYPE_CHECKING:
    from dabench.executors import Sink
    from dabench.handles import ModelHandle
    from dabench.work import Records, WorkUnit

#: units queued on one actor at a time (the next is sent while one runs)
IN_FLIGHT = 2
#: times a unit is retried after its worker died
MAX_RETRIES = 3


class _Worker:
    """A Ray actor's state: one load group's handles, each model loaded on the first unit that needs it."""

    def __init__(self, handles: dict[str, ModelHandle], threads: int) -> None:
        import torch

        from dabench.engines import checkpoints

        torch.set_num_threads(threads)  # the CPUs Ray gave the actor (or the driver's count: same float sums)
        self.handles = handles
        self.loads: list[str] = []
        real = checkpoints.load_model

        def counted(ck: Any, *args: Any, **kwargs: Any) -> Any:
            self.loads.append(str(ck.location))
            return real(ck, *args, **kwargs)

        checkpoints.load_model = counted  # this worker process's own count of weight loads

    def run(self, job: Any, role: str, ids: Sequence[str]) -> tuple[Records, float]:
        from dabench.progress import NullProgress

        start = time.perf_counter()
        records = job(self.handles[role], ids, NullProgress(), lambda n: None)
        return records, time.perf_counter() - start

    def info(self) -> dict[str, Any]:
        import ray

        return {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(), "loads": list(self.loads)}


class RayExecutor:
    """Runs units in Ray actors (see the module docstring)."""

    together = True

    def __init__(self, address: str | None = None, workers: int = 1, gpus_per_worker: float = 0.0,
                 cpus_per_worker: float = 1.0, max_retries: int = MAX_RETRIES, threads: int | None = None) -> None:
        """``threads``: torch threads per actor (default: its CPUs); the local run's count gives its
        float sums to the last bit."""
        try:
            import ray  # noqa: F401
        except ImportError:
            raise DabenchError("--executor ray needs Ray: pip install 'dabench[ray]' (or pip install ray)") from None
        self.address = address
        self.workers, self.gpus, self.cpus, self.max_retries = workers, gpus_per_worker, cpus_per_worker, max_retries
        self.threads = threads or max(1, int(cpus_per_worker))
        self._started = False
        self._pools: dict[frozenset[str], list[Any]] = {}
        self._groups: dict[frozenset[str], dict[str, ModelHandle]] = {}
        #: seconds spent in units' jobs, summed over workers
        self.worker_seconds = 0.0
        #: units run, and units retried after a worker died
        self.units_run = 0
        self.retries = 0
        #: each retired or live actor's info (pid, node, weight loads), gathered on release
        self.actor_info: list[dict[str, Any]] = []

    def _ray(self) -> Any:
        import ray

        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
            except ConnectionError as exc:
                raise DabenchError(f"--ray-address {self.address}: no Ray cluster answers there ({exc}); start one "
                                   "with `ray start --head` or give the head's address") from None
            self._started = True
        return ray

    def _actor(self, group: dict[str, ModelHandle]) -> Any:
        ray = self._ray()
        cls = ray.remote(_Worker).options(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0,
                                          max_concurrency=1)
        return cls.remote(group, self.threads)

    def _pool(self, roles: frozenset[str], handles: Mapping[str, ModelHandle]) -> list[Any]:
        """This load group's actors, started on first use and kept until :meth:`release`."""
        if roles not in self._pools:
            from dabench.handles import load_groups

            group = next(g for g in load_groups({r: handles[r] for r in roles}))
            self._groups[roles] = group
            self._pools[roles] = [self._actor(group) for _ in range(self.workers)]
        return self._pools[roles]

    def execute(self, units: Sequence[WorkUnit], handles: Mapping[str, ModelHandle], sink: Sink) -> None:
        ray = self._ray()
        from dabench.handles import load_groups

        group_of = {role: frozenset(group) for group in load_groups(handles) for role in group}
        # each job (a plan and its examples) travels to the cluster once
        jobs = {key: ray.put(job) for key, job in {id(u.job): u.job for u in units}.items()}
        free = {roles: [i for _ in range(IN_FLIGHT) for i in range(self.workers)]
                for roles in set(group_of[u.role] for u in units)}
        self._check_capacity(len(set(free) | set(self._pools)))
        for roles in free:
            self._pool(roles, handles)
        queue: deque[tuple[WorkUnit, int]] = deque((u, 0) for u in units)
        flying: dict[Any, tuple[WorkUnit, int, frozenset[str], int, Any]] = {}
        while queue or flying:
            waiting: deque[tuple[WorkUnit, int]] = deque()
            while queue:
                unit, tries = queue.popleft()
                roles = group_of[unit.role]
                if free[roles]:
                    slot = free[roles].pop(0)
                    actor = self._pools[roles][slot]
                    ref = actor.run.remote(jobs[id(unit.job)], unit.role, list(unit.ids))
                    flying[ref] = (unit, tries, roles, slot, actor)
                else:
                    waiting.append((unit, tries))
            queue = waiting
            done, _ = ray.wait(list(flying), num_returns=1)
            for ref in done:
                unit, tries, roles, slot, actor = flying.pop(ref)
                free[roles].append(slot)
                try:
                    records, seconds = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the job raised: the same input fails anywhere
                    raise _job_error(unit, exc) from None
                except ray.exceptions.RayError as exc:  # the worker died (killed, node lost, out of memory)
                    if tries >= self.max_retries:
                        raise DabenchError(f"task {unit.task!r} ({unit.role}, shard {unit.shard}): its worker died "
                                           f"{tries + 1} times ({type(exc).__name__}); every record computed so far "
                                           "is stored: run the command again to resume") from None
                    self._replace(roles, slot, actor)
                    self.retries += 1
                    queue.appendleft((unit, tries + 1))
                    continue
                self.worker_seconds += seconds
                self.units_run += 1
                sink.advance(unit, len(unit.ids))
                sink.done(unit, records)

    def _check_capacity(self, groups: int) -> None:
        """Refuse a run whose actors (both sides' at once) the cluster cannot all place: it would wait for ever."""
        ray = self._ray()
        have = ray.cluster_resources()
        actors = groups * self.workers
        for name, each, flag in (("GPU", self.gpus, "--gpus-per-worker"), ("CPU", self.cpus, "--cpus-per-worker")):
            need = actors * each
            if each and need > have.get(name, 0.0) + 1e-9:
                raise DabenchError(
                    f"the Ray cluster has {have.get(name, 0.0):g} {name}s, but {actors} actors ({self.workers} per model "
                    f"x {groups} models, both sides at once) x {flag} {each:g} need {need:g}: lower --workers or "
                    f"{flag} (fractions share a device), or add nodes")

    def _replace(self, roles: frozenset[str], slot: int, dead: Any) -> None:
        """A new actor in the dead one's place (once, however many of its units failed)."""
        if self._pools[roles][slot] is dead:
            with suppress(Exception):  # it is gone already
                self._ray().kill(dead, no_restart=True)
            self._pools[roles][slot] = self._actor(self._groups[roles])

    def actors(self) -> list[Any]:
        """The live actors (tests kill one to check that its units are retried)."""
        return [a for pool in self._pools.values() for a in pool]

    def release(self, handles: Mapping[str, ModelHandle]) -> None:
        ray = self._ray() if self._pools else None
        for roles in [r for r in self._pools if r & set(handles)]:
            for actor in self._pools.pop(roles):
                with suppress(Exception):  # a dead actor has nothing to report
                    self.actor_info.append(ray.get(actor.info.remote(), timeout=30))  # type: ignore[union-attr]
                with suppress(Exception):
                    ray.kill(actor, no_restart=True)  # type: ignore[union-attr]
            self._groups.pop(roles, None)

    def close(self) -> None:
        self.release({role: None for roles in list(self._pools) for role in roles})  # type: ignore[misc]
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _job_error(unit: WorkUnit, exc: Any) -> BaseException:
    """The job's own exception, as a local run raises it; Ray's wrapper only when it has none."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, Exception):
        return cause
    return DabenchError(f"task {unit.task!r} ({unit.role}, shard {unit.shard}) failed on a Ray worker: "
                        f"{str(exc).splitlines()[0]}")
