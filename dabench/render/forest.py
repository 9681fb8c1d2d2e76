"""Forest plot of Δ with its confidence interval per task, grouped by category: an SVG drawn
with matplotlib (Agg), and a monospace text plot for Markdown and terminals.

The SVG is byte-for-byte reproducible: a fixed ``svg.hashsalt``, no date in the metadata, text
kept as text (no embedded font) and no mathtext (a ``$`` in a task name stays literal).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dabench.render import fmt

if TYPE_CHECKING:  # matplotlib loads only when an SVG is drawn (and its typing module is 3.8+)
    from matplotlib.typing import RcKeyType

#: verdict -> (colour, marker); shapes differ too, so the plot reads without colour
VERDICT_STYLE = {"win": ("#1a7f37", "^"), "tie": ("#6e7781", "o"), "loss": ("#cf222e", "v")}

_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "dabench",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "path.simplify": False,
}


@dataclass(frozen=True)
class ForestRow:
    """One line of the plot: a category header (``task`` is None) or a task."""

    label: str
    category: str
    task: str | None = None
    delta: float = 0.0
    lo: float = 0.0
    hi: float = 0.0
    verdict: str = "tie"
    underpowered: bool = False

    @property
    def finite(self) -> bool:
        """Whether Δ and its CI are finite numbers (a metric can be undefined, e.g. Pearson on constants)."""
        return all(math.isfinite(v) for v in (self.delta, self.lo, self.hi))


def forest_rows(comparison: Mapping[str, Any]) -> list[ForestRow]:
    """Rows top to bottom: for each category (fixed order) a header, then its tasks."""
    rows: list[ForestRow] = []
    for category, tasks in fmt.grouped_tasks(comparison["tasks"]):
        rows.append(ForestRow(label=category, category=category))
        for t in tasks:
            lo, hi = t["ci"]
            rows.append(ForestRow(
                label=f"{t['task']} ({t['metric']})", category=category, task=t["task"],
                delta=float(t["delta"]), lo=float(lo), hi=float(hi), verdict=t["verdict"],
                underpowered=bool(t.get("underpowered")),
            ))
    return rows


def _margin(comparison: Mapping[str, Any]) -> float | None:
    m = comparison.get("config", {}).get("margin")
    return float(m) if m else None


def _x_range(rows: list[ForestRow], margin: float | None) -> tuple[float, float]:
    values = [0.0] + [v for r in rows if r.task is not None and r.finite for v in (r.lo, r.hi, r.delta)]
    if margin:
        values += [-margin, margin]
    lo, hi = min(values), max(values)
    if hi - lo <= 0:
        lo, hi = -1e-3, 1e-3
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def forest_svg(comparison: Mapping[str, Any], *, title: str | None = None) -> str:
    """The forest plot as an SVG document (a string), reproducible byte for byte."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = forest_rows(comparison)
    margin = _margin(comparison)
    level = fmt.pct(fmt.ci_level(comparison))
    with matplotlib.rc_context(_RC):
        top, bottom = (0.35 if title else 0.15), 0.6
        height = top + bottom + 0.28 * max(len(rows), 1)
        fig = Figure(figsize=(8.5, height))
        ax = fig.add_axes((0.24, bottom / height, 0.45, 1 - (top + bottom) / height))
        n = len(rows)
        ys = list(range(n - 1, -1, -1))
        x0, x1 = _x_range(rows, margin)
        if margin:
            ax.axvspan(-margin, margin, color="#ddf4ff", zorder=0, lw=0)
        ax.axvline(0.0, color="#24292f", lw=0.8, zorder=1)
        labels = []
        for y, r in zip(ys, rows):
            if r.task is None:
                labels.append(r.label.upper())
                continue
            colour, marker = VERDICT_STYLE.get(r.verdict, VERDICT_STYLE["tie"])
            labels.append(r.label)
            if r.finite:
                ax.plot([r.lo, r.hi], [y, y], color=colour, lw=1.6, solid_capstyle="butt", zorder=2)
                ax.plot([r.delta], [y], marker=marker, color=colour, markersize=6,
                        markerfacecolor="white" if r.underpowered else colour, zorder=3, linestyle="none")
            ax.annotate(f"{fmt.signed(r.delta)} {fmt.interval((r.lo, r.hi))} {r.verdict}" if r.finite
                        else "no finite result", xy=(1.02, y), xycoords=("axes fraction", "data"), va="center",
                        ha="left", fontsize=8, color=colour)
        ax.set_yticks(ys, labels)
        for tick, r in zip(ax.get_yticklabels(), rows):
            if r.task is None:
                tick.set_fontweight("bold")
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(x0, x1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        xlabel = f"Δ = adapted − base (headline metric), {level}% CI"
        if margin:
            xlabel += f"; shaded: ±margin {fmt.num(margin)}"
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#d0d7de", lw=0.5)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if title:
            ax.set_title(title, loc="left")
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "dabench"})
    return buf.getvalue()


def text_forest(comparison: Mapping[str, Any], width: int = 41) -> str:
    """A monospace forest plot: ``|`` marks Δ = 0, ``-`` spans the CI, ``^ o v`` mark Δ by verdict."""
    rows = forest_rows(comparison)
    tasks = [r for r in rows if r.task is not None]
    if not tasks:
        return "(no tasks)"
    x0, x1 = _x_range(rows, _margin(comparison))

    def col(x: float) -> int:
        return max(0, min(width - 1, round((x - x0) / (x1 - x0) * (width - 1))))

    label_w = max(len(r.label) for r in rows)
    lines = []
    for r in rows:
        if r.task is None:
            lines.append(f"{r.label.upper()}")
            continue
        if not r.finite:
            lines.append(f"  {r.label.ljust(label_w)} {'(no finite result)'.center(width)} {r.verdict}")
            continue
        cells = [" "] * width
        for c in range(col(r.lo), col(r.hi) + 1):
            cells[c] = "-"
        cells[col(0.0)] = "|"
        cells[col(r.delta)] = VERDICT_STYLE.get(r.verdict, VERDICT_STYLE["tie"])[1]
        lines.append(
            f"  {r.label.ljust(label_w)} {''.join(cells)} {fmt.signed(r.delta)} {fmt.interval((r.lo, r.hi))} {r.verdict}"
        )
    axis = [" "] * width
    axis[col(0.0)] = "0"
    lines.append(f"  {''.ljust(label_w)} {''.join(axis).rstrip()}")
    lines.append(f"  scale: {fmt.signed(x0)} .. {fmt.signed(x1)}; ^ win, o tie, v loss")
    return "\n".join(lines)
