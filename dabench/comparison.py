"""The Comparison: the result of pairing two models over a set of tasks.

It is what every renderer reads and what ``comparison.json`` holds (schema
``dabench.comparison/1``; later versions may add fields, never remove them).

This is also the one place a stored comparison is read and checked (:func:`check_comparison`,
:func:`read_comparison`), so a truncated or hand-edited file fails with one line naming the file
and the field, not with a ``KeyError`` deep inside a template; :func:`as_dict` is what the
renderers, the gate and the leaderboard call on whatever they are given.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dabench.errors import DabenchError

SCHEMA_PREFIX = "dabench.comparison/"
SCHEMA = "dabench.comparison/1"
VERDICTS = ("win", "tie", "loss")

_MODEL_FIELDS = ("name", "path", "fingerprint")
_TASK_NUMBERS = ("base", "adapted", "delta", "p_value", "p_adjusted")


@dataclass
class ModelInfo:
    """A compared model: what the user passed and its fingerprint."""

    name: str
    path: str
    fingerprint: str


#: examples on which the two models disagree, kept per task in a comparison (every kind)
DISAGREEMENTS_KEPT = 5


@dataclass
class TaskResult:
    """One task's head-to-head result."""

    task: str
    category: str
    metric: str
    n: int
    base: float
    adapted: float
    delta: float
    ci: list[float]
    p_value: float
    p_adjusted: float
    verdict: str
    p_values: dict[str, float] = field(default_factory=dict)
    mde: float | None = None
    equivalent: bool | None = None
    non_inferior: bool | None = None
    underpowered: bool = False
    secondary: dict[str, dict[str, float]] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    prompt_selection: dict[str, Any] | None = None
    disagreements: list[dict[str, str]] = field(default_factory=list)
    #: fine-tune / probe / intrinsic details (mean ± sd per model, per-seed scores); None for prompting
    regime: dict[str, Any] | None = None
    #: one-line remarks a reader needs, e.g. "base: 3 missing predictions scored as wrong"
    notes: list[str] = field(default_factory=list)
    #: every example's row (:mod:`dabench.example_rows`); written to examples.jsonl beside
    #: comparison.json, never into it (empty for a comparison read back from a file)
    examples: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The task as comparison.json stores it (without the per-example rows)."""
        out = asdict(self)
        del out["examples"]
        return out

    @classmethod
    def from_paired(cls, res: Any, *, task: str, category: str, metric: str, n: int, **fields: Any) -> "TaskResult":
        """A task's result from its paired test (a :class:`dabench.stats.PairedResult`); the
        adjusted p-value and the verdict are filled in across tasks by ``apply_verdicts``."""
        mde = None if res.mde is None or not math.isfinite(res.mde) else float(res.mde)
        return cls(task=task, category=category, metric=metric, n=int(n), base=float(res.base),
                   adapted=float(res.adapted), delta=float(res.delta), ci=[float(res.ci[0]), float(res.ci[1])],
                   p_value=float(res.p_value), p_adjusted=float(res.p_value), verdict="tie",
                   p_values={k: float(v) for k, v in res.p_values.items()}, mde=mde, **fields)


def created_now() -> str:
    """The ``created`` stamp of a new comparison: UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Comparison:
    """Base vs adapted over several tasks, with per-task statistics and a summary."""

    base: ModelInfo
    adapted: ModelInfo
    config: dict[str, Any]
    tasks: list[TaskResult]
    signature: dict[str, Any] = field(default_factory=dict)
    dabench_version: str = ""
    created: str = ""

    @property
    def summary(self) -> dict[str, Any]:
        """Counts of verdicts overall and per category."""
        out: dict[str, Any] = {v: 0 for v in VERDICTS}
        by_cat: dict[str, dict[str, int]] = {}
        for t in self.tasks:
            out[t.verdict] += 1
            by_cat.setdefault(t.category, {v: 0 for v in VERDICTS})[t.verdict] += 1
        out["by_category"] = by_cat
        return out

    def task(self, name: str) -> TaskResult:
        for t in self.tasks:
            if t.task == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "dabench_version": self.dabench_version,
            "created": self.created,
            "base": asdict(self.base),
            "adapted": asdict(self.adapted),
            "config": self.config,
            "signature": self.signature,
            "tasks": [t.to_dict() for t in self.tasks],
            "summary": self.summary,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def examples(self) -> dict[str, list[dict[str, Any]]]:
        """Each task's per-example rows (tasks without rows left out)."""
        return {t.task: t.examples for t in self.tasks if t.examples}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Any, source: str = "comparison") -> "Comparison":
        """The Comparison a ``comparison.json`` dict holds, checked by :func:`check_comparison`;
        fields this version does not know are ignored."""
        data = check_comparison(data, source)
        return cls(
            base=ModelInfo(**_known(ModelInfo, data["base"])),
            adapted=ModelInfo(**_known(ModelInfo, data["adapted"])),
            config=dict(data.get("config") or {}),
            tasks=[TaskResult(**_known(TaskResult, t)) for t in data["tasks"]],
            signature=dict(data.get("signature") or {}),
            dabench_version=str(data.get("dabench_version", "")),
            created=str(data.get("created", "")),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Comparison":
        """Read and check a ``comparison.json`` (:func:`read_comparison`); errors name the file."""
        return cls.from_dict(read_comparison(path), str(path))


def _known(kind: type, values: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in values.items() if k in names}


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_task(t: Any, source: str, i: int, seen: set[str]) -> None:
    """Check entry ``i`` of ``tasks``."""
    where = f"{source}: tasks[{i}]"
    if not isinstance(t, Mapping):
        raise DabenchError(f"{where} is not an object")
    name = t.get("task")
    if not isinstance(name, str) or not name:
        raise DabenchError(f"{where}.task is missing or not a string")
    if name in seen:
        raise DabenchError(f"{where}: task {name!r} appears twice")
    seen.add(name)
    where = f"{source}: task {name!r}"
    for key in ("category", "metric"):
        if not isinstance(t.get(key), str):
            raise DabenchError(f"{where}: field '{key}' is missing or not a string")
    if not isinstance(t.get("n"), int) or isinstance(t.get("n"), bool):
        raise DabenchError(f"{where}: field 'n' is missing or not an integer")
    for key in _TASK_NUMBERS:
        if not _is_number(t.get(key)):
            raise DabenchError(f"{where}: field '{key}' is missing or not a number")
    ci = t.get("ci")
    if not (isinstance(ci, list) and len(ci) == 2 and all(_is_number(x) for x in ci)):
        raise DabenchError(f"{where}: field 'ci' must be a list of two numbers [lo, hi]")
    if ci[0] > ci[1]:
        raise DabenchError(f"{where}: field 'ci' has lo > hi ({ci[0]} > {ci[1]})")
    if t.get("verdict") not in VERDICTS:
        raise DabenchError(f"{where}: field 'verdict' must be one of win, tie, loss, not {t.get('verdict')!r}")
    mde = t.get("mde")
    if mde is not None and not _is_number(mde):
        raise DabenchError(f"{where}: field 'mde' must be a number or null")
    dis = t.get("disagreements", [])
    if not isinstance(dis, list) or not all(isinstance(d, Mapping) for d in dis):
        raise DabenchError(f"{where}: field 'disagreements' must be a list of objects")


def check_comparison(data: Any, source: str = "comparison") -> dict[str, Any]:
    """Check the fields every reader uses (the ``dabench.comparison/1`` contract); return
    ``data`` as it is. Raises :class:`DabenchError` naming ``source`` and the first bad field."""
    if not isinstance(data, Mapping):
        raise DabenchError(f"{source}: not a dabench comparison (expected a JSON object)")
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        raise DabenchError(
            f"{source}: not a dabench comparison (field 'schema' is {schema!r}, expected {SCHEMA!r}); "
            "pass the comparison.json written by `dabench compare`"
        )
    if schema != SCHEMA:  # another version's fields may mean what this dabench does not know
        raise DabenchError(
            f"{source}: comparison schema {schema!r} is not the one this dabench understands ({SCHEMA!r}); "
            "upgrade dabench (pip install -U dabench) to read it, or rerun `dabench compare` with this version"
        )
    for side in ("base", "adapted"):
        model = data.get(side)
        if not isinstance(model, Mapping):
            raise DabenchError(f"{source}: field '{side}' is missing or not an object")
        for key in _MODEL_FIELDS:
            if not isinstance(model.get(key), str):
                raise DabenchError(f"{source}: field '{side}.{key}' is missing or not a string")
    if not isinstance(data.get("config", {}), Mapping):
        raise DabenchError(f"{source}: field 'config' is not an object")
    tasks = data.get("tasks")
    if not isinstance(tasks, list):
        raise DabenchError(f"{source}: field 'tasks' is missing or not a list")
    seen: set[str] = set()
    for i, t in enumerate(tasks):
        _check_task(t, source, i, seen)
    return data  # type: ignore[return-value]


def read_comparison(path: str | Path) -> dict[str, Any]:
    """Read and check a ``comparison.json``, returned as it is in the file; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DabenchError(f"{path}: file not found; pass the comparison.json written by `dabench compare`") from None
    except IsADirectoryError:
        raise DabenchError(f"{path}: is a directory; pass the comparison.json inside it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DabenchError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DabenchError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return check_comparison(data, source=str(path))


def as_dict(comparison: "Comparison | Mapping[str, Any]", source: str = "comparison") -> dict[str, Any]:
    """A comparison (the object, or its JSON dict) as its checked JSON dict: what every reader
    (renderers, gate, leaderboard) works on."""
    if isinstance(comparison, Comparison):
        return check_comparison(comparison.to_dict(), source)
    if isinstance(comparison, Mapping):
        return check_comparison(dict(comparison), source)
    raise TypeError(f"expected a comparison dict or Comparison, got {type(comparison).__name__}")
