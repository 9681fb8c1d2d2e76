"""Work units: what one side of a comparison computes, cut into pieces an executor can run anywhere.

A kind describes a side's work as :class:`Run` objects — one task's records for one model under
one run key — each with a :class:`Job` that computes the records of any subset of the run's
example ids on a model handle. The orchestrator asks the store what it has, and turns only the
missing records into :class:`WorkUnit` objects: (checkpoint, kind, task, shard of example ids,
run key). Shards are fixed slices of the run's own id list (``shard_size`` ids each, by
position in the data), never a function of how many workers there are or in which order they
finish, so the same records come out of one process or sixteen. An executor
(:mod:`dabench.executors`) runs units and hands back records; it never needs to know what a kind
is — a unit's job is all it calls.
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
    """Computes one run's records on a model. It holds only what it needs to rebuild the requests
    (plans, examples, settings) — never a loaded model — so a unit can be sent to another process."""

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance) -> Records:
        """Records of ``ids`` (and any extra ids the run lists, e.g. a training run's metadata),
        computed on ``handle``; ``advance(n)`` reports examples done, ``progress`` draws sub-bars."""
        ...


@dataclass
class Run:
    """One task's records for one model: what to compute, how it is keyed, and (once the
    orchestrator has run it) the records, by example id."""

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
    """Whether ``unit`` belongs to batch shard ``index`` of ``count`` (``--shard I/N``): by its
    run key and shard position only — the model is left out, so both arms of a shard of examples
    land in the same batch job and a shard store holds complete pairs. A run's shards go round
    the batch shards from a place its key chooses, so the work spreads evenly."""
    start = int(hashlib.sha256(f"{unit.run_key}\n{unit.seed}".encode()).hexdigest()[:8], 16)
    return (start + unit.shard) % count == index
