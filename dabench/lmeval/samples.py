"""Reading lm-evaluation-harness output folders (``--output_path`` with ``--log_samples``): per
model, ``results_<time>.json`` and a ``samples_<task>_<time>.jsonl`` per task (one line per
document and filter); of several runs of a task, the newest is used.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from dabench.errors import DataError

_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<time>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.jsonl$")
_RESULTS = re.compile(r"^results_(?P<time>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)\.json$")


@dataclass
class LmevalTaskRun:
    """The logged samples of one task in one lm-eval run."""

    task: str
    path: Path
    samples: list[dict[str, Any]]
    #: metric → True when higher is better (from the results file; default True)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    #: metric → aggregation name (``mean`` for per-sample averages)
    aggregation: dict[str, str] = field(default_factory=dict)
    n_shot: int | None = None
    version: Any = None


@dataclass
class LmevalRun:
    """Every task of one model's lm-eval output folder."""

    folder: Path
    model_name: str
    tasks: dict[str, LmevalTaskRun]


def read_output_dir(folder: str | os.PathLike[str]) -> LmevalRun:
    """The newest logged samples of each task under ``folder`` (one model's run)."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"{root}: no such lm-eval output folder")
    files = [root] if root.is_file() else sorted(root.rglob("samples_*.jsonl"))
    found: dict[str, tuple[str, Path]] = {}
    for f in files:
        m = _SAMPLES.match(f.name)
        if not m:
            continue
        task, time = m.group("task"), m.group("time")
        if task not in found or time > found[task][0]:
            found[task] = (time, f)
    if not found:
        raise DataError(f"{root}: no samples_<task>_<time>.jsonl files; run lm-eval with --log_samples --output_path")
    parents = {p.parent for _, p in found.values()}
    if len(parents) > 1:
        names = ", ".join(sorted(str(p.relative_to(root)) for p in parents))
        raise DataError(f"{root}: holds samples of several models ({names}); pass one model's folder")
    model_dir = parents.pop()
    meta = _results_meta(model_dir)
    tasks = {}
    for task, (_, path) in sorted(found.items()):
        info = meta.get(task, {})
        tasks[task] = LmevalTaskRun(task, path, _read_jsonl(path), info.get("higher_is_better", {}),
                                    info.get("aggregation", {}), info.get("n_shot"), info.get("version"))
    model_name = meta.get("__model__", {}).get("name") or model_dir.name
    return LmevalRun(model_dir, model_name, tasks)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{path}:{n}: not valid JSON ({exc})") from None
            for key in ("doc_id", "prompt_hash"):
                if key not in rec:
                    raise DataError(f"{path}:{n}: missing field {key!r} (is this an lm-eval --log_samples file?)")
            out.append(rec)
    return out


def aggregations(config: Mapping[str, Any]) -> dict[str, str]:
    """Metric → aggregation name of a task config's ``metric_list`` (``custom`` for a function)."""
    agg = {}
    for m in config.get("metric_list") or []:
        if isinstance(m, dict) and "metric" in m:
            a = m.get("aggregation", "mean")
            agg[str(m["metric"])] = a if isinstance(a, str) else "custom"
    return agg


def _results_meta(model_dir: Path) -> dict[str, dict[str, Any]]:
    """higher_is_better / aggregation / n-shot / version per task from the results files (newest wins)."""
    meta: dict[str, dict[str, Any]] = {}
    results = sorted((f for f in model_dir.glob("results_*.json") if _RESULTS.match(f.name)), key=lambda f: f.name)
    for f in results:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for task, hib in (data.get("higher_is_better") or {}).items():
            meta.setdefault(task, {})["higher_is_better"] = {k: bool(v) for k, v in hib.items()}
        for task, cfg in (data.get("configs") or {}).items():
            meta.setdefault(task, {})["aggregation"] = aggregations(cfg)
        for key, attr in (("n-shot", "n_shot"), ("versions", "version")):
            for task, v in (data.get(key) or {}).items():
                meta.setdefault(task, {})[attr] = v
        name = (data.get("config") or {}).get("model_args") or data.get("model_name")
        if isinstance(name, dict):
            name = name.get("pretrained")
        if isinstance(name, str) and name:
            m = re.search(r"pretrained=([^,]+)", name)
            meta["__model__"] = {"name": m.group(1) if m else name}
    return meta
