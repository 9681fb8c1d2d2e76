"""Predictions files: JSON Lines of per-example records keyed by ``id``.

The one reader of ``dabench score`` (``{"id", "prediction"}`` records, or KILT guess records
as they are) and ``dabench stats`` (``{"id", "prediction", "reference"[, "cluster"]}``).
Blank lines, a byte-order mark and ``\\r\\n`` line ends are accepted; ids are compared as
text, as the data readers write them (``1`` and ``"1"`` are the same id). Every error is one
line naming the file (and the line).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from dabench.data.readers import kilt_prediction, scalar_text, split_lines
from dabench.errors import DataError

#: the key under which each record keeps its 1-based line number (for error messages)
LINE = "_line"


def read_predictions(
    path: Path, fields: Sequence[str] = ("id", "prediction"), *, kilt: bool = False
) -> dict[str, dict[str, Any]]:
    """Records keyed by id (as text), in file order, each with its line number under ``_line``.

    Every record needs ``fields``; with ``kilt``, a KILT guess record (an ``output`` list
    instead of a ``prediction``) gets its prediction from :func:`~dabench.data.readers.kilt_prediction`.
    """
    wanted = "{" + ", ".join(f'"{f}"' for f in fields) + "}" + (" (or KILT guess)" if kilt else "")
    hint = f"pass a JSON Lines file of {wanted} records"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{path}: no such file; {hint}") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory; {hint}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    out: dict[str, dict[str, Any]] = {}
    for line_no, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        where = f"{path} line {line_no}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(rec, dict):
            raise DataError(f"{where}: expected a JSON object with fields {', '.join(fields)}")
        if kilt and "prediction" not in rec and "output" in rec:
            rec["prediction"] = kilt_prediction(rec)
        missing = [f for f in fields if f not in rec]
        if missing:
            alt = " (or a KILT 'output')" if kilt and "prediction" in missing else ""
            raise DataError(f"{where}: missing field(s) {', '.join(missing)}{alt}")
        key = scalar_text(rec["id"]).strip()
        if key in out:
            raise DataError(f"{where}: id {key!r} is repeated (first at line {out[key][LINE]}); "
                            "a duplicate id is ambiguous, give one record per example")
        rec[LINE] = line_no
        out[key] = rec
    if not out:
        raise DataError(f"{path}: no records; {hint}")
    return out


__all__ = ["LINE", "read_predictions"]
