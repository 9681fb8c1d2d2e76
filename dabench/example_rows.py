"""Per-example rows behind a comparison: each example's input, reference, both models' outputs
and their per-example scores.

``comparison.json`` keeps only a task's first few disagreements; every row goes to
``examples.jsonl`` beside it (one JSON object per line, with its ``task``), which the
leaderboard publishes so that its site can show every flip. Model outputs are untrusted text:
whoever renders a row escapes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from dabench.errors import DabenchError

EXAMPLES_FILE = "examples.jsonl"
#: the text fields of a row (what a disagreement in comparison.json holds)
TEXT_FIELDS = ("id", "input", "reference", "base_prediction", "adapted_prediction")


def example_row(id: str, input: str, reference: str, base_prediction: str, adapted_prediction: str, *,
                base_score: float | None, adapted_score: float | None, prompt: str | None = None) -> dict[str, Any]:
    """One example's row. A score is the example's value under the task's metric (1/0 for a right /
    wrong answer), or None when the metric has no per-example value."""
    row: dict[str, Any] = {"id": str(id), "input": input, "reference": reference,
                           "base_prediction": base_prediction, "adapted_prediction": adapted_prediction,
                           "base_score": _number(base_score), "adapted_score": _number(adapted_score)}
    if prompt is not None and prompt != input:
        row["prompt"] = prompt
    return row


def _number(x: Any) -> float | None:
    return None if x is None else float(x)


def disagreements(rows: Sequence[Mapping[str, Any]], differ: Sequence[bool], kept: int) -> list[dict[str, str]]:
    """The first ``kept`` rows whose predictions differ, as comparison.json stores them."""
    picked = [r for r, d in zip(rows, differ) if d][:kept]
    return [{k: str(r[k]) for k in TEXT_FIELDS} for r in picked]


def flips(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(base better, adapted better): the rows whose per-example scores differ, each way. With
    0/1 scores, the examples the base got right and the adapted wrong, and the reverse."""
    base_better: list[Mapping[str, Any]] = []
    adapted_better: list[Mapping[str, Any]] = []
    for r in rows:
        b, a = r.get("base_score"), r.get("adapted_score")
        if b is None or a is None or b == a:
            continue
        (base_better if b > a else adapted_better).append(r)
    return base_better, adapted_better


def example_lines(tasks: Mapping[str, Sequence[Mapping[str, Any]]], **lead: Any) -> Iterator[dict[str, Any]]:
    """The JSONL lines of every task's rows: ``lead`` first (a sweep's ``checkpoint``), then ``task``."""
    for task, rows in tasks.items():
        for r in rows:
            yield {**lead, "task": task, **r}


def write_examples(lines: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write rows' lines (:func:`example_lines`) to one JSONL file."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def read_examples(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of an ``examples.jsonl`` by task; a bad line is one error naming the file and line."""
    path = Path(path)
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DabenchError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DabenchError(f"{path}: line {no}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("task"), str) or "id" not in row:
            raise DabenchError(f"{path}: line {no}: expected an object with 'task' and 'id' (a row dabench wrote)")
        for key in ("base_score", "adapted_score"):
            if row.get(key) is not None and not isinstance(row[key], (int, float)):
                raise DabenchError(f"{path}: line {no}: field '{key}' must be a number or null")
        out.setdefault(row.pop("task"), []).append(row)
    return out
