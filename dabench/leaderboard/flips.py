"""A task's flip drill-down: the examples the base got right and the adapted wrong, and the
reverse (or where each scored better, for a metric such as perplexity), with inputs and outputs.

From the record's published per-example rows, else from the few disagreements the comparison
keeps (said so on the page). Strings stay raw here; the template escapes them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

from dabench.example_rows import flips
from dabench.leaderboard.records import slug


def flip_page_name(task: str) -> str:
    """A task's flip page file name (a slug plus a hash, so two tasks never share one)."""
    return f"flips-{slug(task, 50)}-{hashlib.sha256(task.encode('utf-8')).hexdigest()[:6]}.html"


def _from_disagreements(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for d in task.get("disagreements") or []:
        ref = str(d.get("reference", ""))
        known = bool(ref)
        rows.append({**{k: str(v) for k, v in d.items()},
                     "base_score": float(d.get("base_prediction") == ref) if known else None,
                     "adapted_score": float(d.get("adapted_prediction") == ref) if known else None})
    return rows


def flip_view(task: Mapping[str, Any], rows: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """What a flip page shows for ``task`` (a comparison's task entry) and its rows, if published."""
    complete = rows is not None
    source = list(rows) if rows is not None else _from_disagreements(task)
    base_better, adapted_better = flips(source)
    decided = {id(r) for r in base_better + adapted_better}
    undecided = [r for r in source if id(r) not in decided and r.get("base_prediction") != r.get("adapted_prediction")]
    if complete:
        where = f"all {len(source)} examples of the record's published per-example rows"
    elif source:
        where = (f"only the {len(source)} disagreements the comparison keeps; publish every example by adding the "
                 "comparison with the examples.jsonl dabench compare writes beside it")
    else:
        where = "no per-example outputs in this record (this kind of comparison keeps none)"
    binary = all(r.get(k) in (None, 0.0, 1.0) for r in source for k in ("base_score", "adapted_score"))
    return {"task": task["task"], "category": task["category"], "metric": task["metric"], "n": task["n"],
            "verdict": task["verdict"], "complete": complete, "source": where,
            "better": ("right", "wrong") if binary else ("better", "worse"),
            "base_better": base_better, "adapted_better": adapted_better, "undecided": undecided}
