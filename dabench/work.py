"""Work units: what one side of a comparison computes, cut into pieces an executor can run anywhere.

A :class:`Run` is one task's records for one model under one run key, with a :class:`Job` that
computes any subset of its example ids on a model handle. Only the records the store lacks become
:class:`WorkUnit` objects, one per shard: a fixed slice of the run's ids (by position, never by
worker count), so the same records come out of one process or sixteen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, Sequence

from dabench.progress import Advance, Progress
from dabench.store import RunInfo

if TYPE_CHECKING:
    from dabench.handles import ModelHandle

#: example ids per shard (and per store transaction) of a run whose records are computed independently
SHARD_SIZE = 64

Records = list[tuple[str, Any]]
"""``(example id, record)`` pairs a job returns."""


class Job(Protocol):
    """Computes one run's records on a model; it never holds a loaded model, so it can be sent to another process."""

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance) -> Records:
        """Records of ``ids`` (and any extra ids the run lists, e.g. a training run's metadata),
        computed on ``handle``; ``advance(n)`` reports examples done, ``progress`` draws sub-bars."""
        ...


@dataclass
class Run:
    """One task's records for one model: what to compute, how it is keyed, and (once run) the records by id."""

    kind: str
    task: str
    #: progress-bar description (None: the job draws its own bars, e.g. a training run's epochs)
    label: str | None
    run_key: str
    ids: list[str]
    job: Job
    info: RunInfo
    seed: int = 0
    #: ids per shard; None: the run is one unit, stored whole or not at all (a training run)
    shard_size: int | None = SHARD_SIZE
    #: whether a stored record is still the answer to this run's request (None: any stored record is)
    fresh: Callable[[str, Any], bool] | None = None
    records: dict[str, Any] = field(default_factory=dict)

    def shards(self) -> list[list[str]]:
        """The run's ids in fixed slices, by position in ``ids``."""
        size = self.shard_size or max(len(self.ids), 1)
        return [self.ids[i:i + size] for i in range(0, len(self.ids), size)]

    def missing(self, stored: Mapping[str, Any]) -> set[str]:
        """The ids whose records ``stored`` lacks or holds stale."""
        return {i for i in self.ids if i not in stored or (self.fresh is not None and not self.fresh(i, stored[i]))}

    def ordered(self) -> list[Any]:
        """The records in ``ids`` order."""
        return [self.records[i] for i in self.ids]


@dataclass(frozen=True)
class WorkUnit:
    """The missing records of one shard of one run, for one side's model."""

    role: str
    #: the model's fingerprint (the store's key for it)
    checkpoint: str
    kind: str
    task: str
    run_key: str
    seed: int
    #: position of the shard in the run
    shard: int
    #: the shard's ids to compute (a whole run's ids when it is one unit)
    ids: tuple[str, ...]
    job: Job = field(compare=False, repr=False)
    label: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """Deterministic identity: the same unit has the same key in every run and process."""
        blob = f"{self.checkpoint}\n{self.run_key}\n{self.seed}\n{self.shard}"
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


def units_of(run: Run, role: str, checkpoint: str, stored: Mapping[str, Any]) -> list[WorkUnit]:
    """The units that compute what ``stored`` lacks of ``run``; shards with nothing missing are
    not units at all. A run that is one unit (``shard_size`` None) is recomputed whole."""
    missing = run.missing(stored)
    out = []
    for index, shard in enumerate(run.shards()):
        todo = tuple(i for i in shard if i in missing)
        if not todo:
            continue
        ids = tuple(shard) if run.shard_size is None else todo
        out.append(WorkUnit(role, checkpoint, run.kind, run.task, run.run_key, run.seed, index, ids, run.job,
                            run.label))
    return out


def in_shard(unit: WorkUnit, index: int, count: int) -> bool:
    """Whether ``unit`` belongs to batch shard ``index`` of ``count`` (``--shard I/N``): by its run
    key and shard position, not its model, so a shard store holds complete pairs; a run's shards go
    round the batch shards from a place its key chooses."""
    start = int(hashlib.sha256(f"{unit.run_key}\n{unit.seed}".encode()).hexdigest()[:8], 16)
    return (start + unit.shard) % count == index
