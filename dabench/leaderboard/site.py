"""Build a leaderboard's static site: an overview (the pairs × tasks table, every result, the
gain/cost plot), a page per pair (its report, provenance, reproducing command and downloads), a
flip drill-down per task, a page per checkpoint sweep, and a methods page.

Plain HTML files with relative links, inline CSS and JS and ``data:`` plots, so the site works
from ``file://`` and any static host. The pages share the HTML report's escaping and CSP and, like
it, are a pure function of the records and the definition, so a rebuild gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, TypedDict

from markupsafe import Markup

from dabench.leaderboard.definition import LeaderboardDefinition, load_definition
from dabench.leaderboard.flips import flip_page_name, flip_view
from dabench.leaderboard.gain_cost import Point, gain_cost_svg, point_of
from dabench.leaderboard.provenance import provenance, reproduce_command, sweep_command
from dabench.leaderboard.records import (EXAMPLES_SUFFIX, RECORDS_DIR, SWEEPS_DIR, load_examples, load_records,
                                         load_sweeps)
from dabench.render import fmt, write_file
from dabench.render.html import comparison_view, environment, page_assets, task_row
from dabench.render.regime_fmt import regime_label, regime_of
from dabench.render.sweep_report import trajectory_svg

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
    categories: dict[str, Counter[str]] = {}  # each task's categories, tasks in order of first appearance
    for _, data in records:
        for t in data["tasks"]:
            categories.setdefault(t["task"], Counter())[t["category"]] += 1
    col_names = definition.task_columns(list(categories))

    def col_category(name: str) -> str:
        counts = categories.get(name)
        return sorted(counts.items(), key=lambda kv: (-kv[1], fmt.category_rank(kv[0])))[0][0] if counts else ""

    columns: list[_Column] = sorted(
        ({"task": name, "category": col_category(name), "order": i} for i, name in enumerate(col_names)),
        key=lambda c: (fmt.category_rank(c["category"]) if c["category"] else (99, ""), c["order"]),
    )
    shown = {c["task"] for c in columns}
    pairs: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for rid, data in records:
        tasks = [t for t in data["tasks"] if t["task"] in shown]
        href = f"{PAIRS_DIR}/{rid}.html"
        cfg = data.get("config", {}) or {}
        by_task = {t["task"]: {  # a result row, and the pair's cell in the task's column
            **task_row(t), "pair_label": _pair_label(data), "href": href,
            "flip_href": f"{PAIRS_DIR}/{rid}/{flip_page_name(t['task'])}",
            "title": (f"{t['metric']}: base {fmt.num(t['base'])}, adapted {fmt.num(t['adapted'])}, "
                      f"adjusted p {fmt.pval(t['p_adjusted'])}, n = {t['n']}"),
        } for t in tasks}
        results += by_task.values()
        pairs.append({
            "id": rid, "href": href, "label": _pair_label(data),
            "adapted": data["adapted"]["name"], "base": data["base"]["name"], "regime": regime_label(data),
            "counts": fmt.verdict_counts(tasks), "cells": [by_task.get(c["task"]) for c in columns],
            "created": str(data.get("created", "")), "dabench_version": str(data.get("dabench_version", "")),
            "resamples": cfg.get("resamples", ""), "alpha": cfg.get("alpha", ""),
            "correction": fmt.CORRECTION_NAMES.get(cfg.get("correction", ""), str(cfg.get("correction", ""))),
            "seed": cfg.get("seed", ""), "shots": cfg.get("shots", "") if regime_of(data) == "prompt" else "", "n_tasks": len(data["tasks"]),
        })
    overall = fmt.verdict_counts(results)
    by_cat = [(cat, fmt.verdict_counts(group)) for cat, group in fmt.grouped_tasks(results)]
    total = sum(overall.values())
    return {
        "title": definition.title,
        "description": definition.description,
        "columns": columns,
        "pairs": pairs,
        "results": results,
        "categories": [cat for cat, _ in by_cat],
        "overall": overall,
        "overall_share": {v: _share(k, total) for v, k in overall.items()},
        "by_category": [
            {"category": cat, **c, "win_share": _share(c["win"], sum(c.values())),
             "loss_share": _share(c["loss"], sum(c.values()))}
            for cat, c in by_cat
        ],
    }


def sweep_label(sweep: dict[str, Any]) -> str:
    return f"sweep of {len(sweep['checkpoints'])} checkpoints against {sweep['base']['name']}"


def plot_view(records: list[tuple[str, dict[str, Any]]], sweeps: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The gain/cost plot (SVG), the points in a table, and the pairs left off it."""
    points: list[Point] = []
    left_off = []
    for rid, data in records:
        point = point_of(data, _pair_label(data), f"{PAIRS_DIR}/{rid}.html")
        if point is None:
            left_off.append(_pair_label(data))
        else:
            points.append(point)
    for sid, sw in sweeps:
        for cp in sw["checkpoints"]:
            label = f"{cp['name']} (step {cp['step']})" if cp["step"] is not None else cp["name"]
            point = point_of(cp["comparison"], label, f"{SWEEPS_DIR}/{sid}.html", series=sid)
            if point is not None:
                points.append(point)
    rows = [{"label": p.label, "href": p.href, "x": f"{p.x:+.2f}%", "x_ci": f"[{p.x_lo:+.2f}, {p.x_hi:+.2f}]",
             "y": f"{p.y:+.2f}%", "y_ci": f"[{p.y_lo:+.2f}, {p.y_hi:+.2f}]"} for p in points]
    return {"svg": Markup(gain_cost_svg(points)), "points": rows, "left_off": left_off}


def sweeps_view(sweeps: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """A row per sweep for the overview."""
    out = []
    for sid, sw in sweeps:
        onset = [f"{task}: {step}" for task, step in sw["forgetting_onset"].items() if step is not None]
        out.append({"href": f"{SWEEPS_DIR}/{sid}.html", "label": sweep_label(sw),
                    "checkpoints": len(sw["checkpoints"]), "recommendation": sw["recommendation"]["reason"],
                    "onset": "; ".join(onset) or "no significant loss"})
    return out


def sweep_page_view(sweep: dict[str, Any]) -> dict[str, Any]:
    """A sweep page: a trajectory plot per category, the recommendation, the onset, every point."""
    tasks = sweep["checkpoints"][0]["comparison"]["tasks"]
    panels = [{"category": cat, "svg": Markup(trajectory_svg(sweep, cat, [t["task"] for t in members]))}
              for cat, members in fmt.grouped_tasks(tasks)]
    rows = [{"checkpoint": cp["name"], "step": "" if cp["step"] is None else cp["step"], "task": t["task"],
             "delta": fmt.signed(t["delta"]), "ci": fmt.interval(t["ci"]), "p_adjusted": fmt.pval(t["p_adjusted"]),
             "verdict": t["verdict"]} for cp in sweep["checkpoints"] for t in cp["comparison"]["tasks"]]
    cfg = sweep.get("config") or {}
    checkpoints = [{"name": cp["name"], "step": cp["step"], "path": cp["path"],
                    "fingerprint": cp["comparison"]["adapted"]["fingerprint"]} for cp in sweep["checkpoints"]]
    return {"label": sweep_label(sweep), "base": sweep["base"], "panels": panels, "rows": rows,
            "checkpoints": checkpoints, "command": sweep_command(sweep),
            "recommendation": sweep["recommendation"]["reason"], "onset": sweep["forgetting_onset"],
            "family": f"{cfg.get('correction', 'holm')} over checkpoints × tasks, α = {cfg.get('alpha', 0.05)}",
            "dabench_version": sweep.get("dabench_version", ""), "created": sweep.get("created", "")}


def _downloads(directory: Path, folder: str, out: Path, rid: str
               ) -> tuple[list[Path], dict[str, list[dict[str, Any]]] | None]:
    """Copy a record's (or sweep's) JSON and its published per-example rows, if any, into ``out``:
    (the files written, the rows by task or None)."""
    published = load_examples(directory, rid, folder)
    written = [write_file(out / f"{rid}.json", (directory / folder / f"{rid}.json").read_bytes())]
    if published:
        written.append(write_file(out / f"{rid}{EXAMPLES_SUFFIX}", published[0].read_bytes()))
    return written, published[1] if published else None


def _pair_pages(directory: Path, out_dir: Path, rid: str, data: dict[str, Any], title: str,
                env: Any, assets: dict[str, Any]) -> list[Path]:
    """A pair's page, its flip pages and its downloads."""
    pair_dir = out_dir / PAIRS_DIR
    written, rows_by_task = _downloads(directory, RECORDS_DIR, pair_dir, rid)
    flip_template = env.get_template("lb_flips.html.j2")
    flip_links = []
    for t in data["tasks"]:
        view = flip_view(t, None if rows_by_task is None else rows_by_task.get(t["task"]))
        name = flip_page_name(t["task"])
        written.append(write_file(pair_dir / rid / name, flip_template.render(
            f=view, pair=_pair_label(data), pair_href=f"../{rid}.html", lb_title=title, **assets)))
        flip_links.append({"task": t["task"], "href": f"{rid}/{name}", "base_better": len(view["base_better"]),
                           "adapted_better": len(view["adapted_better"]), "complete": view["complete"]})
    page = env.get_template("lb_pair.html.j2").render(
        c=comparison_view(data), record_id=rid, lb_title=title, provenance=provenance(data),
        command=reproduce_command(data), flips=flip_links, record_href=f"{rid}.json",
        examples_href=None if rows_by_task is None else f"{rid}{EXAMPLES_SUFFIX}", **assets)
    return [write_file(pair_dir / f"{rid}.html", page), *written]


def build_site(directory: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the site of the leaderboard in ``directory`` to ``out_dir``; returns the files written.
    Files an earlier build left under ``pairs/`` and ``sweeps/`` for records now gone are removed."""
    directory, out_dir = Path(directory), Path(out_dir)
    definition = load_definition(directory)
    records = [(rid, data) for rid, data in load_records(directory) if definition.selects(data)]
    sweeps = [(sid, sw) for sid, sw in load_sweeps(directory)
              if any(definition.selects(cp["comparison"]) for cp in sw["checkpoints"])]
    env, assets = environment(), page_assets()
    lb = overview_view(records, definition)
    lb.update(plot=plot_view(records, sweeps), sweeps=sweeps_view(sweeps))
    written = [
        write_file(out_dir / "index.html", env.get_template("lb_index.html.j2").render(lb=lb, **assets)),
        write_file(out_dir / "methods.html", env.get_template("lb_methods.html.j2").render(lb=lb, **assets)),
    ]
    for rid, data in records:
        written += _pair_pages(directory, out_dir, rid, data, definition.title, env, assets)
    sweep_template = env.get_template("lb_sweep.html.j2")
    for sid, sw in sweeps:
        copied, rows = _downloads(directory, SWEEPS_DIR, out_dir / SWEEPS_DIR, sid)
        written += copied
        written.append(write_file(out_dir / SWEEPS_DIR / f"{sid}.html", sweep_template.render(
            s=sweep_page_view(sw), lb_title=definition.title, sweep_href=f"{sid}.json",
            examples_href=None if rows is None else f"{sid}{EXAMPLES_SUFFIX}", **assets)))
    keep = {p.resolve() for p in written}
    for folder in (out_dir / PAIRS_DIR, out_dir / SWEEPS_DIR):
        for stale in sorted(folder.rglob("*"), reverse=True) if folder.is_dir() else []:
            if stale.is_file() and stale.resolve() not in keep:
                stale.unlink()
            elif stale.is_dir() and not any(stale.iterdir()):
                stale.rmdir()
    return written
