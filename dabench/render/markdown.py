"""Markdown report of a comparison, for a pull request, an issue or a paper's appendix.

A pure function of the comparison dict (the same JSON gives the same bytes). Every string from
the comparison goes through :func:`md_escape`, so a model output cannot inject links, images or
markup into a rendered page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dabench.example_rows import TEXT_FIELDS
from dabench.render import fmt, write_file
from dabench.render.forest import text_forest
from dabench.comparison import as_dict
from dabench.render.protocol import protocol
from dabench.render.regime_fmt import run_rows, score

#: characters with an inline meaning in (GitHub-flavoured) Markdown, escaped with a backslash:
#: emphasis, code, links and images (``[``), table cells, strikethrough, math (``$``) and
#: @-mentions; ``& < >`` become entities first, so raw HTML and autolinks are inert
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$@])")
_WS = re.compile(r"\s+")


def md_escape(text: Any, limit: int | None = None) -> str:
    """Untrusted text as inert Markdown on one line: HTML entities for ``& < >``, backslash
    before every Markdown metacharacter, whitespace runs collapsed, cut at ``limit`` chars."""
    s = _WS.sub(" ", str(text)).strip()
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _code(text: Any) -> str:
    """Inline code that no backtick in ``text`` can close early."""
    s = _WS.sub(" ", str(text))
    ticks = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _fenced(text: str, lang: str = "") -> str:
    ticks = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, ticks + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _table(header: list[str], align: str, rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render_markdown(comparison: Any, *, forest_image: str | None = None) -> str:
    """The Markdown report. ``forest_image``: a relative path of the forest-plot SVG to link
    (written beside the report by ``dabench report --out``); the text forest plot is always in."""
    data = as_dict(comparison)
    tasks = data["tasks"]
    ordered = [t for _, group in fmt.grouped_tasks(tasks) for t in group]
    base, adapted = data["base"], data["adapted"]
    level = fmt.pct(fmt.ci_level(data))
    lines: list[str] = [f"# dabench report: {md_escape(adapted['name'])} vs {md_escape(base['name'])}", ""]
    for role, m in (("Base", base), ("Adapted", adapted)):
        lines.append(f"- **{role}:** {md_escape(m['name'])} at {md_escape(m['path'])}, "
                     f"fingerprint {_code(md_escape(m['fingerprint'][:16]))}")
    lines.append(f"- **Created:** {md_escape(data.get('created', ''))} with dabench {md_escape(data.get('dabench_version', ''))}")
    lines.append(f"- **Protocol:** {md_escape(protocol(data))}")
    lines += ["", "Δ = adapted − base on each task's headline metric; a task is a win or a loss only when its "
              "adjusted p-value is below alpha, otherwise a tie.", ""]

    lines += ["## Verdicts by category", ""]
    rows = [[md_escape(cat), *map(str, fmt.verdict_counts(group).values())] for cat, group in fmt.grouped_tasks(tasks)]
    rows.append(["**all**", *(f"**{k}**" for k in fmt.verdict_counts(tasks).values())])
    lines += _table(["category", "win", "tie", "loss"], "lrrr", rows) + [""]

    lines += ["## Per-task results", ""]
    rows = []
    for t in ordered:
        tmpl = t.get("templates") or {}
        rows.append([
            md_escape(t["task"]), md_escape(t["category"]), md_escape(t["metric"]), str(t["n"]),
            md_escape(score(t, "base")), md_escape(score(t, "adapted")), fmt.signed(t["delta"]), fmt.interval(t["ci"]),
            fmt.pval(t["p_value"]), fmt.pval(t["p_adjusted"]), f"**{t['verdict']}**", fmt.num(t.get("mde")),
            md_escape(", ".join(fmt.flags(t))),
            f"{md_escape(tmpl.get('base', ''))} / {md_escape(tmpl.get('adapted', ''))}" if tmpl else "",
        ])
    lines += _table(
        ["task", "category", "metric", "n", "base", "adapted", "Δ", f"{level}% CI", "p", "adj. p", "verdict",
         "MDE", "flags", "template (base / adapted)"],
        "lllrrrrrrrlrll", rows,
    ) + [""]
    notes = [(t["task"], note) for t in tasks for note in t.get("notes") or []]
    if notes:
        lines += [f"- **{md_escape(task)}:** {md_escape(note)}" for task, note in notes] + [""]
    if any(t.get("underpowered") for t in tasks):
        lines += ["*underpowered*: the minimum detectable effect (MDE, 80% power) exceeds the margin, so a tie "
                  "here does not show the models are equal.", ""]

    runs = run_rows(data)
    if runs:
        lines += ["## Training runs" if any(r["model"] != "both" for r in runs) else "## Perplexity", ""]
        lines += _table(["task", "model", "run", "test score", "details"], "lllrl",
                        [[md_escape(r[k]) for k in ("task", "model", "run", "score", "detail")] for r in runs]) + [""]

    lines += ["## Forest plot", ""]
    if forest_image:
        lines += [f"![Forest plot of Δ with {level}% CI by category]({forest_image})", ""]
    lines += [_fenced(text_forest(data), "text"), ""]

    secondary = [(t, name, s) for t in ordered for name, s in sorted((t.get("secondary") or {}).items())]
    if secondary:
        lines += ["## Secondary metrics", ""]
        lines += _table(
            ["task", "metric", "base", "adapted", "Δ"], "llrrr",
            [[md_escape(t["task"]), md_escape(name), fmt.num(s.get("base")), fmt.num(s.get("adapted")),
              fmt.signed(s.get("delta"))] for t, name, s in secondary],
        ) + [""]

    if any(t.get("disagreements") for t in tasks):
        lines += ["## Where the models disagree", "",
                  "A sample of examples per task on which the two models predicted differently (texts cut at 200 "
                  "characters).", ""]
        for t in ordered:
            if t.get("disagreements"):
                lines += [f"### {md_escape(t['task'])} ({md_escape(t['category'])})", ""]
                lines += _table(["id", "input", "reference", "base", "adapted"], "lllll",
                                [[md_escape(d.get(k, ""), cut) for k, cut in zip(TEXT_FIELDS, (60, 200, 100, 100, 100))]
                                 for d in t["disagreements"]]) + [""]

    lines += ["## Signature", "", "Everything needed to reproduce these numbers:", ""]
    lines += [_fenced(json.dumps(data.get("signature", {}), indent=2, sort_keys=True, ensure_ascii=True), "json"), ""]
    return "\n".join(lines)


def write_markdown_report(comparison: Any, path: str | Path) -> list[Path]:
    """Write the Markdown report to ``path`` and its forest plot SVG beside it (``NAME.forest.svg``);
    returns both paths."""
    from dabench.render.forest import forest_svg

    path, data = Path(path), as_dict(comparison)
    svg = write_file(path.with_name(path.stem + ".forest.svg"), forest_svg(data))
    return [write_file(path, render_markdown(data, forest_image=svg.name)), svg]
