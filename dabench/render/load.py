"""Reading a stored ``comparison.json`` for the renderers, the leaderboard and the gate.

Everything downstream of ``compare`` only *reads* a comparison. This module checks, once,
that a dict has every field those readers rely on (the ``dabench.comparison/1`` contract),
so that a truncated or hand-edited file fails with one line naming the file and the field,
not with a ``KeyError`` deep inside a template. Extra fields are kept and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dabench.errors import DabenchError

SCHEMA_PREFIX = "dabench.comparison/"
SCHEMA = "dabench.comparison/1"
VERDICTS = ("win", "tie", "loss")

_MODEL_FIELDS = ("name", "path", "fingerprint")
_TASK_NUMBERS = ("base", "adapted", "delta", "p_value", "p_adjusted")


def as_dict(comparison: Any) -> dict[str, Any]:
    """A comparison as its JSON dict: accepts the dict itself or an object with ``to_dict()``."""
    if isinstance(comparison, Mapping):
        return dict(comparison)
    to_dict = getattr(comparison, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"expected a comparison dict or Comparison, got {type(comparison).__name__}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_version(schema: str, source: str) -> None:
    """Refuse a comparison of another schema version: its fields may mean something this
    dabench does not know, so reading it anyway could turn into a wrong verdict."""
    if schema != SCHEMA:
        raise DabenchError(
            f"{source}: comparison schema {schema!r} is not the one this dabench understands ({SCHEMA!r}); "
            "upgrade dabench (pip install -U dabench) to read it, or rerun `dabench compare` with this version"
        )


def validate_comparison(data: Any, source: str = "comparison") -> dict[str, Any]:
    """Check the fields every reader uses; return ``data`` unchanged.

    Raises :class:`DabenchError` naming ``source`` and the first bad field.
    """
    if not isinstance(data, Mapping):
        raise DabenchError(f"{source}: not a dabench comparison (expected a JSON object)")
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
        raise DabenchError(
            f"{source}: not a dabench comparison (field 'schema' is {schema!r}, expected {SCHEMA!r}); "
            "pass the comparison.json written by `dabench compare`"
        )
    _check_version(schema, source)
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
    return data  # type: ignore[return-value]


def load_comparison(path: str | Path) -> dict[str, Any]:
    """Read and validate a ``comparison.json``; errors name the file."""
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
    return validate_comparison(data, source=str(path))


def looks_like_json_file(arg: str) -> bool:
    """Whether a CLI argument names a stored JSON result rather than a checkpoint."""
    return arg.lower().endswith(".json")
