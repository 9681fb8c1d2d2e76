"""Running lm-eval tasks (``lmeval:<task>``) through dabench's engines and record store: finding
tasks and keying their runs (:mod:`dabench.lmeval.answers` answers them).

Tasks are found without indexing every built-in task (~10 s): the user's ``include_path``
folders, then only the built-in folders whose YAML names the requested task, group or tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from dabench.errors import TaskError

PREFIX = "lmeval:"


def strip_prefix(name: str) -> str:
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


# -- finding tasks ------------------------------------------------------------------------------
def builtin_task_dirs(names: Iterable[str]) -> list[Path]:
    """Folders of lm-eval's built-in tasks whose YAML declares one of ``names`` (task, group or tag)."""
    import lm_eval.tasks as tasks_pkg

    root = Path(tasks_pkg.__file__).parent
    wanted = {strip_prefix(n) for n in names}
    pat = re.compile(r"^(?:task|group|tag):\s*[\"']?([\w.\-]+)[\"']?\s*$|^\s*-\s*[\"']?([\w.\-]+)[\"']?\s*$", re.M)
    dirs: set[Path] = set()
    for f in root.rglob("*.yaml"):
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if not any(w in text for w in wanted):
            continue
        for m in pat.finditer(text):
            if (m.group(1) or m.group(2)) in wanted:
                dirs.add(f.parent)
                break
    return sorted(dirs)


def task_manager(names: Sequence[str], include_path: Sequence[str | os.PathLike[str]] = ()) -> Any:
    """An lm-eval TaskManager that knows ``names`` (user folders first, then built-in folders)."""
    from lm_eval.tasks import TaskManager

    user = [str(Path(p).expanduser()) for p in include_path]
    for p in user:
        if not Path(p).is_dir():
            raise TaskError(f"--include-path {p}: no such folder of lm-eval task YAMLs")
    tm = TaskManager(include_defaults=False, include_path=user or None) if user else None
    missing = [n for n in names if tm is None or strip_prefix(n) not in tm.all_tasks]
    if missing:
        extra = [str(d) for d in builtin_task_dirs(missing)]
        tm = TaskManager(include_defaults=False, include_path=user + extra or None)
    unknown = [n for n in names if tm is None or strip_prefix(n) not in tm.all_tasks]
    if unknown:
        raise TaskError(f"unknown lm-eval task {', '.join(unknown)}; check the name (`lm-eval ls tasks`) "
                        "or pass --include-path DIR with its YAML")
    return tm


def short_hash(obj: Any) -> str:
    """A 16-hex-digit hash of ``obj`` as canonical JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# -- running tasks ------------------------------------------------------------------------------
def run_key(task: str, config: Mapping[str, Any], *, num_fewshot: int | None, fewshot_seed: int) -> str:
    """Identifies a task's requests independent of the model (lm-eval version, config, shots, seed)."""
    import lm_eval

    return short_hash({"lm_eval": getattr(lm_eval, "__version__", "?"), "task": task, "config": config,
                       "num_fewshot": num_fewshot, "fewshot_seed": fewshot_seed})


def task_configs(tm: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each (sub)task's config as lm-eval loads it; groups expand to their tasks."""
    loaded = tm.load([strip_prefix(n) for n in names])
    out = {}
    for name, task in loaded["tasks"].items():
        try:
            cfg = task.dump_config()
        except Exception:  # noqa: BLE001
            cfg = {"task": name}
        out[str(name)] = cfg
    return out


def check_datasets(tm: Any, names: Sequence[str]) -> None:
    """Build every task (loading its dataset) before any model loads: a dataset that cannot be had
    is one line naming the task, not a traceback after the base model was scored."""
    from lm_eval.tasks import get_task_dict

    for name in names:
        try:
            get_task_dict([strip_prefix(name)], tm)
        except Exception as exc:  # datasets raises many kinds; each means the same to the user
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise TaskError(f"lm-eval task {name}: its dataset could not be loaded ({type(exc).__name__}: {first}); "
                            "if this machine is offline, cache the dataset first (HF_DATASETS_CACHE) or point the "
                            "task's YAML at local files (dataset_path: json, data_files)") from None


def task_runs_from_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """{task: LmevalTaskRun} from simple_evaluate's results (same shape as read_output_dir)."""
    from dabench.lmeval.samples import LmevalTaskRun, aggregations

    out = {}
    for task, samples in (results.get("samples") or {}).items():
        agg = aggregations((results.get("configs") or {}).get(task, {}))
        hib = {k: bool(v) for k, v in ((results.get("higher_is_better") or {}).get(task) or {}).items()}
        out[task] = LmevalTaskRun(task, Path("."), list(samples), hib, agg, (results.get("n-shot") or {}).get(task),
                                  (results.get("versions") or {}).get(task))
    return out
