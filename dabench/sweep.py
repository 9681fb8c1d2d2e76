"""Checkpoint sweeps: a series of checkpoints, each compared with one base, as one family.

Continued pretraining is a trajectory: in-domain skill rises while general ability erodes.
:func:`sweep` compares every checkpoint with the base (evaluated once), adjusts all checkpoints ×
tasks as **one** family, and reads the **recommendation** and the **forgetting onset** per task.
The result (:class:`Sweep`, ``sweep.json``) holds one comparison per checkpoint, in step order.
"""

from __future__ import annotations

import glob
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, created_now
from dabench.errors import DabenchError
from dabench.verdicts import reapply_verdicts

SCHEMA = "dabench.sweep/1"
#: the categories a checkpoint must not lose (at the margin) to be recommended
GUARDED = ("out-of-domain", "knowledge")


@dataclass
class SweepPoint:
    """One checkpoint of the series and its comparison with the base."""

    name: str
    path: str
    step: int | None
    comparison: Comparison

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "step": self.step, "comparison": self.comparison.to_dict()}


@dataclass
class Sweep:
    """Every checkpoint's comparison with the base, adjusted as one family, and what they say."""

    base: ModelInfo
    points: list[SweepPoint]
    config: dict[str, Any]
    recommendation: dict[str, Any]
    forgetting_onset: dict[str, int | str | None]
    created: str = field(default_factory=created_now)
    dabench_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "dabench_version": self.dabench_version, "created": self.created,
                "base": vars(self.base), "config": self.config, "checkpoints": [p.to_dict() for p in self.points],
                "recommendation": self.recommendation, "forgetting_onset": self.forgetting_onset}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


_STEP = re.compile(r"(\d+)(?!.*\d)")


def checkpoint_step(path: str) -> int | None:
    """A checkpoint's training step: ``global_step`` of its ``trainer_state.json``, else the last
    number in its name (``checkpoint-1500`` → 1500), else None."""
    state = Path(path) / "trainer_state.json"
    if state.is_file():
        try:
            step = json.loads(state.read_text(encoding="utf-8")).get("global_step")
            if isinstance(step, int):
                return step
        except (OSError, ValueError):
            pass
    m = _STEP.search(Path(path).name)
    return int(m.group(1)) if m else None


def ordered_checkpoints(checkpoints: Sequence[str], pattern: str | None = None) -> list[tuple[str, int | None]]:
    """The checkpoints given plus those ``pattern`` matches, by step (those without one last, as
    given); a checkpoint named twice is an error."""
    found = list(checkpoints)
    if pattern:
        matched = sorted(glob.glob(pattern))
        if not matched:
            raise DabenchError(f"--checkpoints {pattern!r}: matches no file or folder")
        found += matched
    if not found:
        raise DabenchError("name the checkpoints to sweep: CKPT [CKPT ...] or --checkpoints 'DIR/checkpoint-*'")
    seen: set[str] = set()
    for c in found:
        key = str(Path(c).resolve()) if Path(c).exists() else c
        if key in seen:
            raise DabenchError(f"checkpoint {c!r} is named twice")
        seen.add(key)
    with_steps = [(c, checkpoint_step(c)) for c in found]
    return sorted(with_steps, key=lambda cs: (cs[1] is None, cs[1] or 0))


def sweep(base: str, checkpoints: Sequence[str], tasks: Sequence[str], *,
          compare: Callable[..., Comparison] | None = None, pattern: str | None = None, correction: str = "holm",
          alpha: float = 0.05, margin: float | None = None, **options: Any) -> Sweep:
    """Compare each checkpoint with ``base`` on ``tasks`` (``options``: those of
    :func:`dabench.compare`; one store, so the base is evaluated once) and adjust every p-value
    over checkpoints × tasks as one family."""
    from dabench.pipeline import compare as compare_pair

    run = compare or compare_pair
    points = []
    for path, step in ordered_checkpoints(checkpoints, pattern):
        comp = run(base, path, list(tasks), correction=correction, alpha=alpha, margin=margin, **options)
        points.append(SweepPoint(comp.adapted.name, comp.adapted.path, step, comp))
    family = [t for p in points for t in p.comparison.tasks]
    reapply_verdicts(family, correction=correction, alpha=alpha, margin=margin)
    for p in points:
        p.comparison.config["family"] = "sweep: checkpoints x tasks"
    config = {"tasks": list(points[0].comparison.config.get("tasks") or tasks), "correction": correction,
              "alpha": alpha, "margin": margin, "family": "checkpoints x tasks",
              "options": points[0].comparison.config.get("options", {})}
    return Sweep(points[0].comparison.base, points, config, recommend(points, margin), forgetting_onset(points))


def _label(p: SweepPoint) -> str:
    return f"step {p.step}" if p.step is not None else p.name


def recommend(points: Sequence[SweepPoint], margin: float | None) -> dict[str, Any]:
    """The checkpoint with the best mean in-domain Δ among those non-inferior at ``margin`` on
    every out-of-domain and knowledge task; else why none qualifies."""
    if margin is None:
        return {"checkpoint": None, "reason": "no --margin given: without the tolerated drop, no checkpoint can "
                "be shown non-inferior on out-of-domain and knowledge tasks; run the sweep with --margin M"}
    qualified, blocked = [], {}
    for p in points:
        lost = [t.task for t in p.comparison.tasks if t.category in GUARDED and not t.ci[0] > -margin]
        if lost:
            blocked[_label(p)] = lost
        else:
            qualified.append(p)
    gains = {id(p): [t.delta for t in p.comparison.tasks if t.category == "in-domain"] for p in points}
    if not any(gains.values()):
        return {"checkpoint": None, "reason": "no in-domain task in the sweep: nothing says what adaptation bought; "
                "add the domain's tasks (--domain D marks a task of domain D in-domain)"}
    if not qualified:
        worst = "; ".join(f"{k}: {', '.join(v)}" for k, v in blocked.items())
        return {"checkpoint": None, "reason": f"no checkpoint is non-inferior at margin {margin:g} on every "
                f"out-of-domain and knowledge task ({worst})", "blocked": blocked}
    best = max(qualified, key=lambda p: sum(gains[id(p)]) / len(gains[id(p)]))
    mean = sum(gains[id(best)]) / len(gains[id(best)])
    return {"checkpoint": best.name, "path": best.path, "step": best.step, "mean_in_domain_delta": mean,
            "reason": f"{_label(best)}: the best mean in-domain Δ ({mean:+.4f}) among the {len(qualified)} "
                      f"checkpoint(s) non-inferior at margin {margin:g} on every out-of-domain and knowledge task",
            "blocked": blocked}


def forgetting_onset(points: Sequence[SweepPoint]) -> dict[str, int | str | None]:
    """Per task, the step (or name) of the first checkpoint with a significant loss; None if none."""
    out: dict[str, int | str | None] = {}
    for p in points:
        for t in p.comparison.tasks:
            out.setdefault(t.task, None)
            if out[t.task] is None and t.verdict == "loss":
                out[t.task] = p.step if p.step is not None else p.name
    return out


def check_sweep(data: Any, source: str = "sweep") -> dict[str, Any]:
    """Check a ``sweep.json`` dict (schema, base, every checkpoint's comparison, recommendation,
    forgetting onset); return it as it is. Errors name ``source`` and the first bad field."""
    from dabench.comparison import check_comparison

    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise DabenchError(f"{source}: not a dabench sweep (field 'schema' is {found!r}, expected {SCHEMA!r})")
    base = data.get("base")
    if not isinstance(base, dict) or not all(isinstance(base.get(k), str) for k in ("name", "path", "fingerprint")):
        raise DabenchError(f"{source}: field 'base' must hold name, path and fingerprint")
    points = data.get("checkpoints")
    if not isinstance(points, list) or not points:
        raise DabenchError(f"{source}: field 'checkpoints' must be a non-empty list")
    for i, p in enumerate(points):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not isinstance(p.get("path"), str) \
                or not (p.get("step") is None or isinstance(p["step"], int)):
            raise DabenchError(f"{source}: checkpoints[{i}] must hold a name, a path and a step (an integer or null)")
        check_comparison(p.get("comparison"), f"{source}: checkpoints[{i}].comparison")
    if not isinstance(data.get("recommendation"), dict) or not isinstance(data["recommendation"].get("reason"), str):
        raise DabenchError(f"{source}: field 'recommendation' must be an object with a 'reason'")
    if not isinstance(data.get("forgetting_onset"), dict):
        raise DabenchError(f"{source}: field 'forgetting_onset' must be an object")
    return data
