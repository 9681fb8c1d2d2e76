"""Build a leaderboard's static site: overview, one page per pair, a methods page.

Plain HTML files with relative links, inline CSS and JS (sortable, filterable tables) and
plots as ``data:`` images, so the site works from ``file://`` and from any static host. The
pages share the HTML report's escaping and Content-Security-Policy, and, like the report,
are a pure function of the records and the definition (no build time is written), so a
rebuild from the same files gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, TypedDict

from dabench.leaderboard.definition import LeaderboardDefinition, load_definition
from dabench.leaderboard.records import load_records
from dabench.render import fmt
from dabench.render.html import comparison_view, environment, page_assets, sort_key
from dabench.render.regime_fmt import regime_label, regime_of, score

PAIRS_DIR = "pairs"


class _Column(TypedDict):
    """A task column of the overview: the task, its most common category, its place in the definition."""

    task: str
    category: str
    order: int


def _share(k: int, total: int) -> str:
    return f"{100 * k / total:.1f}%" if total else "n/a"


def _pair_label(data: dict[str, Any]) -> str:
    """``adapted vs base``, plus the regime for non-prompting comparisons (a pair may have several)."""
    regime = regime_label(data)
    return f"{data['adapted']['name']} vs {data['base']['name']}" + (f" ({regime})" if regime else "")


def overview_view(records: list[tuple[str, dict[str, Any]]], definition: LeaderboardDefinition) -> dict[str, Any]:
    """The overview's content: task columns, one row per pair, overall and per-category counts."""
    available: list[str] = []
    categories: dict[str, Counter[str]] = {}
    for _, data in records:
        for t in data["tasks"]:
            if t["task"] not in available:
                available.append(t["task"])
            categories.setdefault(t["task"], Counter())[t["category"]] += 1
    col_names = definition.task_columns(available)

    def col_category(name: str) -> str:
        counts = categories.get(name)
        return sorted(counts.items(), key=lambda kv: (-kv[1], fmt.category_rank(kv[0])))[0][0] if counts else ""

    columns: list[_Column] = sorted(
        ({"task": name, "category": col_category(name), "order": i} for i, name in enumerate(col_names)),
        key=lambda c: (fmt.category_rank(c["category"]) if c["category"] else (99, ""), c["order"]),
    )
    shown = {c["task"] for c in columns}
    pairs, results = [], []
    overall = {v: 0 for v in fmt.VERDICT_ORDER}
    by_cat: dict[str, dict[str, int]] = {}
    for rid, data in records:
        by_task = {t["task"]: t for t in data["tasks"]}
        tasks = [t for t in data["tasks"] if t["task"] in shown]
        href = f"{PAIRS_DIR}/{rid}.html"
        cfg = data.get("config", {}) or {}
        cells: list[dict[str, Any] | None] = []
        for col in columns:
            t = by_task.get(col["task"])
            if t is None:
                cells.append(None)
                continue
            cells.append({
                "verdict": t["verdict"], "delta": fmt.signed(t["delta"]), "delta_value": sort_key(t["delta"]),
                "ci": fmt.interval(t["ci"]),
                "title": (f"{t['metric']}: base {fmt.num(t['base'])}, adapted {fmt.num(t['adapted'])}, "
                          f"adjusted p {fmt.pval(t['p_adjusted'])}, n = {t['n']}"),
            })
        for t in tasks:
            overall[t["verdict"]] += 1
            by_cat.setdefault(t["category"], {v: 0 for v in fmt.VERDICT_ORDER})[t["verdict"]] += 1
            results.append({
                "pair_label": _pair_label(data), "href": href, "task": t["task"], "category": t["category"],
                "metric": t["metric"], "n": t["n"],
                "base": score(t, "base"), "base_value": sort_key(t["base"]),
                "adapted": score(t, "adapted"), "adapted_value": sort_key(t["adapted"]),
                "delta": fmt.signed(t["delta"]), "delta_value": sort_key(t["delta"]), "ci": fmt.interval(t["ci"]),
                "verdict": t["verdict"], "p_adjusted": fmt.pval(t["p_adjusted"]),
                "p_adjusted_value": sort_key(t["p_adjusted"]), "flags": fmt.flags(t),
            })
        pairs.append({
            "id": rid, "href": href, "label": _pair_label(data),
            "adapted": data["adapted"]["name"], "base": data["base"]["name"], "regime": regime_label(data),
            "counts": fmt.verdict_counts(tasks), "cells": cells,
            "created": str(data.get("created", "")), "dabench_version": str(data.get("dabench_version", "")),
            "resamples": cfg.get("resamples", ""), "alpha": cfg.get("alpha", ""),
            "correction": fmt.CORRECTION_NAMES.get(cfg.get("correction", ""), str(cfg.get("correction", ""))),
            "seed": cfg.get("seed", ""), "shots": cfg.get("shots", "") if regime_of(data) == "prompt" else "", "n_tasks": len(data["tasks"]),
        })
    total = sum(overall.values())
    return {
        "title": definition.title,
        "description": definition.description,
        "columns": columns,
        "pairs": pairs,
        "results": results,
        "categories": sorted(by_cat, key=fmt.category_rank),
        "overall": overall,
        "overall_share": {v: _share(k, total) for v, k in overall.items()},
        "by_category": [
            {"category": cat, **c, "win_share": _share(c["win"], sum(c.values())),
             "loss_share": _share(c["loss"], sum(c.values()))}
            for cat, c in sorted(by_cat.items(), key=lambda kv: fmt.category_rank(kv[0]))
        ],
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def build_site(directory: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the site of the leaderboard in ``directory`` to ``out_dir``; returns the pages written.

    Pair pages left in ``out_dir/pairs/`` by an earlier build whose record is gone are removed.
    """
    directory, out_dir = Path(directory), Path(out_dir)
    definition = load_definition(directory)
    records = [(rid, data) for rid, data in load_records(directory) if definition.selects(data)]
    env, assets = environment(), page_assets()
    lb = overview_view(records, definition)
    written = [
        _write(out_dir / "index.html", env.get_template("lb_index.html.j2").render(lb=lb, **assets)),
        _write(out_dir / "methods.html", env.get_template("lb_methods.html.j2").render(lb=lb, **assets)),
    ]
    pair_template = env.get_template("lb_pair.html.j2")
    for rid, data in records:
        html = pair_template.render(c=comparison_view(data), record_id=rid, lb_title=definition.title, **assets)
        written.append(_write(out_dir / PAIRS_DIR / f"{rid}.html", html))
    keep = set(written)
    for stale in sorted((out_dir / PAIRS_DIR).glob("*.html")):
        if stale not in keep:
            stale.unlink()
    return written
