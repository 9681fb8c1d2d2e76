"""The Comparison: the result of pairing two models over a set of tasks.

It is what every renderer reads and what ``comparison.json`` holds (schema
``dabench.comparison/1``; later versions may add fields, never remove them).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dabench.errors import DabenchError

SCHEMA = "dabench.comparison/1"
VERDICTS = ("win", "tie", "loss")


@dataclass
class ModelInfo:
    """A compared model: what the user passed and its fingerprint."""

    name: str
    path: str
    fingerprint: str


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
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


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
            "tasks": [asdict(t) for t in self.tasks],
            "summary": self.summary,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Comparison":
        if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("dabench.comparison/"):
            raise DabenchError("not a dabench comparison (missing schema 'dabench.comparison/1')")
        try:
            return cls(
                base=ModelInfo(**data["base"]),
                adapted=ModelInfo(**data["adapted"]),
                config=data.get("config", {}),
                tasks=[TaskResult(**t) for t in data["tasks"]],
                signature=data.get("signature", {}),
                dabench_version=data.get("dabench_version", ""),
                created=data.get("created", ""),
            )
        except (KeyError, TypeError) as exc:
            raise DabenchError(f"comparison JSON is malformed ({exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> "Comparison":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DabenchError(f"{path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise DabenchError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data)
