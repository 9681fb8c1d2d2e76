"""Pairing two models' lm-eval per-sample results on (task, doc_id, filter).

Two samples pair only when they are the same request: same ``doc_hash``, ``prompt_hash`` and
``target_hash``; otherwise the difference would mix the model effect with the prompt's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from dabench.errors import PairingError, TaskError

#: per-sample metrics lm-eval reports where lower is better, when no results file says so
_LOWER_IS_BETTER = {"perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "ter"}


@dataclass
class PairedTask:
    """One (task, filter) of two runs, aligned on doc_id."""

    task: str  #: display name: the lm-eval task, with ``[filter]`` unless the filter is ``none``
    lm_task: str
    filter: str
    doc_ids: list[Any]
    metrics: list[str]  #: headline first
    base: dict[str, np.ndarray]
    adapted: dict[str, np.ndarray]
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  #: metric → why it is not tested
    docs: dict[Any, Any] = field(default_factory=dict, repr=False)


def _scalar(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)) and math.isfinite(float(v)):
        return float(v)
    return None


def pair_task_samples(
    lm_task: str,
    base: Sequence[Mapping[str, Any]],
    adapted: Sequence[Mapping[str, Any]],
    *,
    higher_is_better: Mapping[str, bool] | None = None,
    aggregation: Mapping[str, str] | None = None,
    where: tuple[str, str] = ("base", "adapted"),
) -> list[PairedTask]:
    """Align the samples of one task (every filter) of two runs; refuse what does not pair."""
    higher_is_better = dict(higher_is_better or {})
    aggregation = dict(aggregation or {})
    by_filter: dict[str, tuple[dict, dict]] = {}
    for side, samples in ((0, base), (1, adapted)):
        for s in samples:
            f = str(s.get("filter", "none"))
            key = s["doc_id"]
            slot = by_filter.setdefault(f, ({}, {}))[side]
            if key in slot:
                raise PairingError(f"lm-eval task {lm_task!r}: doc_id {key} appears twice for filter {f!r} in the "
                                   f"{where[side]} samples")
            slot[key] = s
    out = []
    for f, (b, a) in sorted(by_filter.items()):
        if set(b) != set(a):
            only_b, only_a = sorted(set(b) - set(a), key=str), sorted(set(a) - set(b), key=str)
            raise PairingError(
                f"lm-eval task {lm_task!r} filter {f!r}: the runs scored different documents "
                f"({len(only_b)} only in {where[0]}, e.g. {only_b[:3]}; {len(only_a)} only in {where[1]}, e.g. {only_a[:3]}); "
                "run both with the same --limit / --samples")
        ids = sorted(b, key=lambda x: (isinstance(x, str), x))
        for d in ids:
            sb, sa = b[d], a[d]
            for h, what in (("doc_hash", "documents"), ("prompt_hash", "prompts"), ("target_hash", "targets")):
                if h in sb and h in sa and sb[h] != sa[h]:
                    raise PairingError(
                        f"lm-eval task {lm_task!r} doc_id {d} (filter {f!r}): the two runs used different {what} "
                        f"({h} {str(sb[h])[:12]} vs {str(sa[h])[:12]}); run both with the same task version, "
                        "num_fewshot and seeds")
        names = [m for m in (b[ids[0]].get("metrics") or []) if m in b[ids[0]]] if ids else []
        if not names and ids:
            skip = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                    "doc_hash", "prompt_hash", "target_hash"}
            names = [k for k in b[ids[0]] if k not in skip]
        skipped = {}
        base_vals: dict[str, np.ndarray] = {}
        adapted_vals: dict[str, np.ndarray] = {}
        for m in names:
            agg = aggregation.get(m, "mean")
            if agg != "mean":
                skipped[m] = f"aggregated by {agg}, not a per-sample mean"
                continue
            vb = [_scalar(b[d].get(m)) for d in ids]
            va = [_scalar(a[d].get(m)) for d in ids]
            if any(v is None for v in vb + va):
                skipped[m] = "per-sample values are not numbers"
                continue
            base_vals[m] = np.asarray(vb, dtype=np.float64)
            adapted_vals[m] = np.asarray(va, dtype=np.float64)
        metrics = list(base_vals)
        if not metrics:
            raise TaskError(f"lm-eval task {lm_task!r} filter {f!r}: no per-sample metric to test "
                            f"({'; '.join(f'{k}: {v}' for k, v in skipped.items()) or 'no metrics logged'})")
        hib = {m: higher_is_better.get(m, m not in _LOWER_IS_BETTER) for m in metrics}
        out.append(PairedTask(lm_task if f == "none" else f"{lm_task}[{f}]", lm_task, f, ids, metrics,
                              base_vals, adapted_vals, hib, skipped, {d: b[d].get("doc") for d in ids}))
    return out


def pair_runs(base_tasks: Mapping[str, Any], adapted_tasks: Mapping[str, Any], tasks: Iterable[str] | None = None,
              *, where: tuple[str, str] = ("base", "adapted")) -> list[PairedTask]:
    """Pair every task present in both runs (or the named ``tasks``): {task: LmevalTaskRun}."""
    common = [t for t in base_tasks if t in adapted_tasks]
    if tasks is not None:
        wanted = [t.removeprefix("lmeval:") for t in tasks]
        for t in wanted:
            for side, run in zip(where, (base_tasks, adapted_tasks)):
                if t not in run:
                    raise PairingError(f"lm-eval task {t!r} is not in the {side} run (it has: {', '.join(sorted(run))})")
        common = wanted
    if not common:
        raise PairingError(f"the two lm-eval runs share no task ({where[0]}: {', '.join(sorted(base_tasks))}; "
                           f"{where[1]}: {', '.join(sorted(adapted_tasks))})")
    out: list[PairedTask] = []
    for t in common:
        rb, ra = base_tasks[t], adapted_tasks[t]
        hib = dict(getattr(rb, "higher_is_better", {}) or {})
        agg = dict(getattr(rb, "aggregation", {}) or {})
        out += pair_task_samples(t, rb.samples, ra.samples, higher_is_better=hib, aggregation=agg, where=where)
    return out
