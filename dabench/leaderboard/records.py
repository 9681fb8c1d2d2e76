"""Leaderboard records: one comparison per JSON file under ``<leaderboard>/records/`` (its
per-example rows beside it as ``<id>.examples.jsonl``), one checkpoint sweep per file under ``sweeps/``.

A record's id names the pair and hashes what makes it a distinct result, so adding the same
comparison twice, or a re-run with the same settings, replaces the record instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dabench.errors import DabenchError
from dabench.leaderboard.definition import write_default_definition
from dabench.comparison import check_comparison, read_comparison
from dabench.example_rows import EXAMPLES_FILE, read_examples
from dabench.render import write_file

RECORDS_DIR = "records"
SWEEPS_DIR = "sweeps"
EXAMPLES_SUFFIX = ".examples.jsonl"
_SLUG = re.compile(r"[^a-z0-9._]+")
_SAFE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")


def slug(text: str, max_len: int = 40) -> str:
    """Lower-case ``[a-z0-9._-]`` only, for file names and URLs."""
    s = _SLUG.sub("-", text.lower()).strip("-.")[:max_len].strip("-.")
    return s or "model"


def record_id(comparison: dict[str, Any]) -> str:
    """``<adapted>--vs--<base>-<hash8>``: the pair, and a hash of fingerprints, task versions, settings
    (for fine-tune / probe comparisons also the preset, seeds and hyperparameters)."""
    cfg = comparison.get("config", {}) or {}
    sig = comparison.get("signature", {}) or {}
    key = {
        "base": comparison["base"]["fingerprint"],
        "adapted": comparison["adapted"]["fingerprint"],
        "tasks": sig.get("task_hashes") or sorted(t["task"] for t in comparison["tasks"]),
        "settings": {k: cfg.get(k) for k in ("limit", "shots", "seed", "domain", "select_prompt")},
    }
    key["settings"]["regime"] = None if cfg.get("regime") == "prompt" else cfg.get("regime")  # same id as before regimes
    if cfg.get("regime") not in (None, "prompt"):  # a fine-tune with other seeds or hyperparameters is another result
        key["protocol"] = {k: cfg.get(k) for k in ("preset", "seeds", "hyperparameters")}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:8]
    return f"{slug(comparison['adapted']['name'])}--vs--{slug(comparison['base']['name'])}-{digest}"


@dataclass(frozen=True)
class Added:
    """What ``add`` did with one result file."""

    id: str
    path: Path
    status: str  # added | updated | unchanged


def sweep_id(sweep: dict[str, Any]) -> str:
    """``sweep-<base>-<hash8>``: the base, and a hash of every checkpoint's fingerprint and the tasks."""
    key = {"base": sweep["base"]["fingerprint"], "tasks": sweep.get("config", {}).get("tasks"),
           "checkpoints": [p["comparison"]["adapted"]["fingerprint"] for p in sweep["checkpoints"]]}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:8]
    return f"sweep-{slug(sweep['base']['name'])}-{digest}"


def _read(path: Path) -> tuple[str, dict[str, Any], Path | None]:
    """(kind, checked content, its examples file) of a result file: a comparison or a sweep."""
    from dabench.sweep import SCHEMA as SWEEP_SCHEMA, check_sweep

    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        head = None  # read_comparison names what is wrong with the file
    if isinstance(head, dict) and head.get("schema") == SWEEP_SCHEMA:
        kind, data = "sweep", check_sweep(head, str(path))
        counts: dict[str, int] = {}
        for cp in data["checkpoints"]:
            for t in cp["comparison"]["tasks"]:
                counts[t["task"]] = counts.get(t["task"], 0) + t["n"]
    else:
        kind, data = "comparison", read_comparison(path) if head is None else check_comparison(head, str(path))
        counts = {t["task"]: t["n"] for t in data["tasks"]}
    examples = path.parent / EXAMPLES_FILE
    if not examples.is_file():
        return kind, data, None
    for task, task_rows in read_examples(examples).items():
        if counts.get(task) != len(task_rows):
            raise DabenchError(f"{examples}: does not belong to {path} (task {task!r}: {len(task_rows)} rows, the "
                               f"{kind} has {counts.get(task, 'no such task')}); move it away or rerun the {kind}")
    return kind, data, examples


def add_records(paths: list[str | Path], directory: str | Path) -> list[Added]:
    """Validate each result file (``comparison.json``, with the ``examples.jsonl`` beside it if any,
    or ``sweep.json``) and file it under ``directory/records/`` or ``sweeps/``. All are validated
    before any is written; the folder and a default ``leaderboard.yaml`` are created if missing."""
    if not paths:
        raise DabenchError("pass at least one comparison.json or sweep.json to add")
    loaded = [_read(Path(p)) for p in paths]
    directory = Path(directory)
    (directory / RECORDS_DIR).mkdir(parents=True, exist_ok=True)
    write_default_definition(directory)
    out = []
    for kind, data, examples in loaded:
        rid = sweep_id(data) if kind == "sweep" else record_id(data)
        target = directory / (SWEEPS_DIR if kind == "sweep" else RECORDS_DIR) / f"{rid}.json"
        status = _put(target, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        if examples is not None and _put(target.with_name(rid + EXAMPLES_SUFFIX), examples.read_bytes()) != "unchanged":
            status = "updated" if status == "unchanged" else status
        out.append(Added(rid, target, status))
    return out


def _put(target: Path, content: bytes) -> str:
    """Write ``content`` unless the file already holds it; added | updated | unchanged."""
    if target.exists() and target.read_bytes() == content:
        return "unchanged"
    status = "updated" if target.exists() else "added"
    write_file(target, content)
    return status


def load_records(directory: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Every record of a leaderboard as ``(id, comparison)``, sorted by id."""
    records = Path(directory) / RECORDS_DIR
    if not records.is_dir():
        raise DabenchError(f"{Path(directory)}: no {RECORDS_DIR}/ folder; add results with `dabench leaderboard add`")
    out = []
    for path in sorted(records.glob("*.json")):
        rid = path.stem
        if not _SAFE_ID.fullmatch(rid):
            raise DabenchError(f"{path}: record file names must be slugs ([a-z0-9._-]); re-add it with "
                               "`dabench leaderboard add`")
        out.append((rid, read_comparison(path)))
    return out


def load_sweeps(directory: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """Every sweep of a leaderboard as ``(id, sweep)``, sorted by id (none when it has no sweeps/)."""
    from dabench.sweep import check_sweep

    out = []
    for path in sorted((Path(directory) / SWEEPS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DabenchError(f"{path}: cannot be read as JSON ({exc.__class__.__name__}); re-add the sweep") from None
        out.append((path.stem, check_sweep(data, str(path))))
    return out


def load_examples(directory: str | Path, rid: str, folder: str = RECORDS_DIR
                  ) -> tuple[Path, dict[str, list[dict[str, Any]]]] | None:
    """A record's (or, with ``folder=SWEEPS_DIR``, a sweep's) published per-example rows: its
    file and the rows by task; None when none were published."""
    path = Path(directory) / folder / f"{rid}{EXAMPLES_SUFFIX}"
    return (path, read_examples(path)) if path.is_file() else None
