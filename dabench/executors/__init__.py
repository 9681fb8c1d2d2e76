"""Executors: who runs a comparison's work units.

An :class:`Executor` calls each :class:`~dabench.work.WorkUnit`'s job on its side's model handle
somewhere and hands the records to the driver's :class:`Sink` (the driver alone writes the
store); it never looks inside a job. Executors are found by name in :data:`EXECUTORS`.
"""

from __future__ import annotations

import importlib
import time
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from dabench.errors import DabenchError

if TYPE_CHECKING:
    from dabench.handles import ModelHandle
    from dabench.progress import Progress
    from dabench.work import Records, WorkUnit


class Sink(Protocol):
    """The driver's side of an executor: progress and the records of finished units."""

    progress: Progress

    def advance(self, unit: WorkUnit, n: int) -> None:
        """``n`` more examples of ``unit`` are done."""

    def done(self, unit: WorkUnit, records: Records) -> None:
        """``unit`` finished with ``records`` (committed to the store at once)."""


class Executor(Protocol):
    """Runs work units and reports them to a sink."""

    #: True: both sides' units run together (both models held at once); False: one side after the other
    together: bool

    def execute(self, units: Sequence[WorkUnit], handles: Mapping[str, ModelHandle], sink: Sink) -> None:
        """Run every unit (``handles`` by the units' ``role``), calling ``sink.done`` for each."""

    def release(self, handles: Mapping[str, ModelHandle]) -> None:
        """Free what holds these sides' models (their work is done)."""

    def close(self) -> None:
        """Free everything (the comparison is over or failed)."""


class LocalExecutor:
    """Every unit in this process, in order; a side's model loads on its first unit."""

    together = False

    def __init__(self) -> None:
        self.worker_seconds = 0.0

    def execute(self, units: Sequence[WorkUnit], handles: Mapping[str, ModelHandle], sink: Sink) -> None:
        for unit in units:
            start = time.perf_counter()
            records = unit.job(handles[unit.role], unit.ids, sink.progress, partial(sink.advance, unit))
            self.worker_seconds += time.perf_counter() - start
            sink.done(unit, records)

    def release(self, handles: Mapping[str, ModelHandle]) -> None:
        for handle in handles.values():
            handle.release()

    def close(self) -> None:
        pass


#: executor name → ``module:factory`` (imported when chosen: Ray is an optional extra)
EXECUTORS: dict[str, str] = {
    "local": "dabench.executors:LocalExecutor",
    "ray": "dabench.executors.ray:RayExecutor",
}


def make_executor(name: str, **options: Any) -> Executor:
    """The executor registered as ``name``, built with ``options``."""
    if name not in EXECUTORS:
        raise DabenchError(f"--executor must be one of {', '.join(EXECUTORS)}; not {name!r}")
    module, _, attr = EXECUTORS[name].partition(":")
    factory: Callable[..., Executor] = getattr(importlib.import_module(module), attr)
    return factory(**options)
