"""The HTML report of a checkpoint sweep: a trajectory plot (Δ with its CI per task against the
training step, one panel per category, a marker per verdict), the recommendation, the forgetting
onset and a table. Self-contained (inline SVG and CSS, no script, no network request); every
name and path is escaped."""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, Sequence

from dabench.render import fmt

_W, _H, _PAD, _RIGHT = 760, 240, 56, 170
_COLOURS = ("#1b6ac9", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50")
_MARK = {"win": "▲", "loss": "▼", "tie": "●"}


def _points(sweep: Mapping[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(x label, x value, task by name) per checkpoint, in step order."""
    out = []
    for i, cp in enumerate(sweep["checkpoints"]):
        x = cp["step"] if cp["step"] is not None else i
        label = f"{cp['step']}" if cp["step"] is not None else cp["name"]
        out.append((label, x, {t["task"]: t for t in cp["comparison"]["tasks"]}))
    return out


def _metric(pts: list[tuple[str, Any, dict[str, Any]]], tasks: Sequence[str]) -> str:
    names = {str(by[t]["metric"]) for _, _, by in pts for t in tasks if t in by}
    return ", ".join(sorted(names))


def trajectory_svg(sweep: Mapping[str, Any], category: str, tasks: Sequence[str]) -> str:
    """One panel: each task's Δ (with its CI bar and verdict marker) against the step."""
    pts = _points(sweep)
    xs = [x for _, x, _ in pts]
    lo = min([0.0] + [by[t]["ci"][0] for _, _, by in pts for t in tasks if t in by])
    hi = max([0.0] + [by[t]["ci"][1] for _, _, by in pts for t in tasks if t in by])
    span_x = (max(xs) - min(xs)) or 1
    span_y = (hi - lo) or 1

    def sx(x: float) -> float:
        return _PAD + (x - min(xs)) / span_x * (_W - _PAD - _RIGHT) if len(xs) > 1 else (_W - _RIGHT + _PAD) / 2

    def sy(y: float) -> float:
        return _H - _PAD + 10 - (y - lo) / span_y * (_H - _PAD - 20)

    parts = [f'<svg class="trajectory" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="Δ per step, {escape(category)}">',
             f'<line x1="{_PAD}" x2="{_W - _RIGHT}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" class="zero"/>',
             f'<text x="{_W - _RIGHT + 24}" y="{_H - 8}" class="axis">step</text>',
             f'<text x="4" y="14" class="axis">Δ {escape(_metric(pts, tasks))}</text>',
             f'<text x="4" y="{sy(hi):.1f}" class="axis">{fmt.signed(hi)}</text>',
             f'<text x="4" y="{sy(lo):.1f}" class="axis">{fmt.signed(lo)}</text>']
    for label, x, _ in pts:
        parts.append(f'<text x="{sx(x):.1f}" y="{_H - 8}" class="axis" text-anchor="middle">{escape(label)}</text>')
    for k, task in enumerate(tasks):
        colour = _COLOURS[k % len(_COLOURS)]
        line = [(sx(x), sy(by[task]["delta"])) for _, x, by in pts if task in by]
        parts.append(f'<polyline fill="none" stroke="{colour}" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b in line) + '"/>')
        for _, x, by in pts:
            if task not in by:
                continue
            t = by[task]
            parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(t["ci"][0]):.1f}" '
                         f'y2="{sy(t["ci"][1]):.1f}" stroke="{colour}" class="ci"/>')
            parts.append(f'<text x="{sx(x):.1f}" y="{sy(t["delta"]) + 4:.1f}" fill="{colour}" text-anchor="middle" '
                         f'class="mark {escape(t["verdict"])}"><title>{escape(task)}: Δ {fmt.signed(t["delta"])} '
                         f'{fmt.interval(t["ci"])}, {escape(t["verdict"])}</title>{_MARK.get(t["verdict"], "●")}</text>')
        parts.append(f'<text x="{_W - _RIGHT + 10}" y="{line[-1][1] + 4:.1f}" fill="{colour}" class="axis">'
                     f'{escape(task)}</text>' if line else "")
    parts.append("</svg>")
    return "".join(parts)


_CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.trajectory{width:100%;max-width:760px;height:auto}
.zero{stroke:#999;stroke-dasharray:4 3}.ci{stroke-width:1.5;opacity:.6}.axis{font-size:11px;fill:#555}
.mark{font-size:12px}.win{font-weight:bold}.loss{font-weight:bold}.note{background:#f6f6f6;padding:.6em 1em}"""


def sweep_html(sweep: Mapping[str, Any]) -> str:
    """The whole report, one HTML document."""
    tasks = sweep["checkpoints"][0]["comparison"]["tasks"]
    rec = sweep["recommendation"]
    body = [f"<h1>Checkpoint sweep against {escape(sweep['base']['name'])}</h1>",
            f'<p class="note"><b>Recommendation:</b> {escape(rec["reason"])}</p>',
            f"<p>{len(sweep['checkpoints'])} checkpoints × {len(tasks)} tasks, p-values adjusted in one family "
            f"({escape(str(sweep['config']['correction']))}, α = {sweep['config']['alpha']:g}). Markers: ▲ win, "
            "▼ loss, ● tie; bars: CIs.</p>"]
    for category, members in fmt.grouped_tasks(tasks):
        body += [f"<h2>{escape(category)}</h2>", trajectory_svg(sweep, category, [t["task"] for t in members])]
    body.append("<h2>Forgetting onset</h2><table><tr><th>task</th><th>first significant loss</th></tr>")
    for task, step in sweep["forgetting_onset"].items():
        body.append(f"<tr><td>{escape(task)}</td><td>{escape(str(step)) if step is not None else 'none'}</td></tr>")
    body.append("</table><h2>Every checkpoint</h2><table><tr><th>checkpoint</th><th>step</th><th>task</th>"
                "<th>Δ</th><th>CI</th><th>adj. p</th><th>verdict</th></tr>")
    for cp in sweep["checkpoints"]:
        for t in cp["comparison"]["tasks"]:
            body.append(f"<tr><td>{escape(cp['name'])}</td><td>{escape(str(cp['step']))}</td><td>{escape(t['task'])}"
                        f"</td><td>{fmt.signed(t['delta'])}</td><td>{fmt.interval(t['ci'])}</td>"
                        f"<td>{fmt.pval(t['p_adjusted'])}</td><td>{escape(t['verdict'])}</td></tr>")
    body.append(f"</table><p>dabench {escape(sweep['dabench_version'])}, {escape(sweep['created'])}</p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>dabench sweep</title>'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
