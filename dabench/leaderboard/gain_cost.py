"""The gain/cost plot of a leaderboard (inline SVG, labels escaped): per pair, what adaptation
bought in-domain (x) against what it cost out-of-domain and in knowledge (y).

Each Δ is made relative to the base's score, in percent, so metrics share a scale; x and y are means
over their tasks, and a bar runs from the mean lower CI bound to the mean upper one (never narrower
than the interval of the mean). A pair without tasks on both sides is listed instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any, Mapping, Sequence

GAIN = ("in-domain",)
COST = ("out-of-domain", "knowledge")
_W, _H, _PAD = 640, 420, 60


@dataclass(frozen=True)
class Point:
    """One pair (or sweep checkpoint) on the plot."""

    label: str
    href: str
    x: float
    x_lo: float
    x_hi: float
    y: float
    y_lo: float
    y_hi: float
    series: str | None = None  # the sweep it belongs to


def _side(tasks: Sequence[Mapping[str, Any]], categories: tuple[str, ...]) -> tuple[float, float, float] | None:
    """(mean relative Δ, mean lower bound, mean upper bound) in percent over the tasks of ``categories``."""
    rel = [[100 * v / abs(t["base"]) for v in (t["delta"], *t["ci"])]
           for t in tasks if t["category"] in categories and t["base"]]
    if not rel:
        return None
    x, lo, hi = (sum(col) / len(rel) for col in zip(*rel))
    return x, lo, hi


def point_of(comparison: Mapping[str, Any], label: str, href: str, series: str | None = None) -> Point | None:
    """The comparison's point, or None when it lacks in-domain or cost tasks."""
    gain, cost = _side(comparison["tasks"], GAIN), _side(comparison["tasks"], COST)
    if gain is None or cost is None:
        return None
    return Point(label, href, *gain, *cost, series=series)


def gain_cost_svg(points: Sequence[Point]) -> str:
    """The plot as an inline ``<svg>`` (empty string when there is no point)."""
    if not points:
        return ""
    xs = [v for p in points for v in (p.x_lo, p.x_hi)] + [0.0]
    ys = [v for p in points for v in (p.y_lo, p.y_hi)] + [0.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad_x, pad_y = (x1 - x0) * 0.08 or 1.0, (y1 - y0) * 0.08 or 1.0
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    def sx(x: float) -> float:
        return _PAD + (x - x0) / (x1 - x0) * (_W - 2 * _PAD)

    def sy(y: float) -> float:
        return _H - _PAD - (y - y0) / (y1 - y0) * (_H - 2 * _PAD)

    parts = [f'<svg class="gain-cost" id="gain-cost" viewBox="0 0 {_W} {_H}" role="img" '
             'aria-label="in-domain gain against out-of-domain and knowledge change, one point per pair">',
             f'<line class="zero" x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{_PAD - 10}" y2="{_H - _PAD}"/>',
             f'<line class="zero" x1="{_PAD}" x2="{_W - _PAD + 10}" y1="{sy(0):.1f}" y2="{sy(0):.1f}"/>',
             f'<text class="axis" x="{_W / 2:.0f}" y="{_H - 12}" text-anchor="middle">in-domain Δ, % of the base '
             'score (gain →)</text>',
             f'<text class="axis" x="14" y="{_H / 2:.0f}" transform="rotate(-90 14 {_H / 2:.0f})" '
             'text-anchor="middle">out-of-domain + knowledge Δ, % (cost ↓)</text>']
    for v, anchor in ((x0, "start"), (x1, "end")):
        parts.append(f'<text class="axis" x="{sx(v):.1f}" y="{_H - _PAD + 16}" text-anchor="{anchor}">{v:+.1f}</text>')
    for v in (y0, y1):
        parts.append(f'<text class="axis" x="{_PAD - 4}" y="{sy(v):.1f}" text-anchor="end">{v:+.1f}</text>')
    by_series: dict[str, list[Point]] = {}
    for p in points:
        if p.series:
            by_series.setdefault(p.series, []).append(p)
    for members in by_series.values():
        parts.append('<polyline class="series" fill="none" points="'
                     + " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in members) + '"/>')
    for p in points:
        tip = (f"{p.label}: in-domain {p.x:+.2f}% [{p.x_lo:+.2f}, {p.x_hi:+.2f}], "
               f"out-of-domain + knowledge {p.y:+.2f}% [{p.y_lo:+.2f}, {p.y_hi:+.2f}]")
        kind = "sweep-point" if p.series else "pair-point"
        parts.append(
            f'<a href="{escape(p.href)}" class="{kind}"><title>{escape(tip)}</title>'
            f'<line class="bar" x1="{sx(p.x_lo):.1f}" x2="{sx(p.x_hi):.1f}" y1="{sy(p.y):.1f}" y2="{sy(p.y):.1f}"/>'
            f'<line class="bar" x1="{sx(p.x):.1f}" x2="{sx(p.x):.1f}" y1="{sy(p.y_lo):.1f}" y2="{sy(p.y_hi):.1f}"/>'
            f'<circle class="{kind}" cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="5"/>'
            f'<text class="point-label" x="{sx(p.x) + 7:.1f}" y="{sy(p.y) - 7:.1f}">{escape(p.label)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)

