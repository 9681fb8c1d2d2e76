"""Leaderboard records: one comparison per JSON file under ``<leaderboard>/records/``.

A record's id names the pair and hashes what makes it a distinct result (both model
fingerprints, the task versions and the evaluation settings), so adding the same comparison
twice is idempotent, and a re-run of the same pair with the same settings replaces the old
record instead of duplicating it. Ids are slugs, safe as file names and URLs.
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
from dabench.comparison import read_comparison

RECORDS_DIR = "records"
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


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def add_records(paths: list[str | Path], directory: str | Path) -> list[Added]:
    """Validate each comparison JSON and file it under ``directory/records/<id>.json``.

    All files are validated before any is written, so a bad one adds nothing. Creates the
    folder and a default ``leaderboard.yaml`` when they do not exist.
    """
    if not paths:
        raise DabenchError("pass at least one comparison.json to add")
    loaded = [(Path(p), read_comparison(p)) for p in paths]
    directory = Path(directory)
    records = directory / RECORDS_DIR
    records.mkdir(parents=True, exist_ok=True)
    write_default_definition(directory)
    out = []
    for _, data in loaded:
        rid = record_id(data)
        target = records / f"{rid}.json"
        text = _canonical(data)
        if target.exists():
            status = "unchanged" if target.read_text(encoding="utf-8") == text else "updated"
        else:
            status = "added"
        if status != "unchanged":
            target.write_bytes(text.encode("utf-8"))
        out.append(Added(rid, target, status))
    return out


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
