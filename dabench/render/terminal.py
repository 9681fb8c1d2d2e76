"""The terminal table of a comparison (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dabench.render.fmt import CORRECTION_NAMES, ci_level, pct
from dabench.render.regime_fmt import regime_of, score, seeds_test

_VERDICT_STYLE = {"win": "bold green", "tie": "yellow", "loss": "bold red"}


def _score(task: dict[str, Any], side: str) -> str:
    """mean ± sd over fine-tuning seeds, or the score with its perplexity, else 4 decimals."""
    if task.get("regime"):
        return score(task, side)
    return "—" if task[side] is None else f"{task[side]:.4f}"


def _p(x: float) -> str:
    return f"{x:.2e}" if x < 1e-3 else f"{x:.4f}"


def comparison_table(data: dict[str, Any]) -> Table:
    """A table of one comparison dict: task, category, metric, n, base, adapted, Δ, CI, p, adjusted p, verdict."""
    table = Table(title=f"{data['adapted']['name']} vs {data['base']['name']}", caption=_caption(data))
    for col in ("task", "category", "metric", "n", "base", "adapted", "Δ", f"{pct(ci_level(data))}% CI", "p", "adj. p",
                "verdict"):
        table.add_column(col, justify="left" if col in ("task", "category", "metric", "verdict") else "right")
    for t in data["tasks"]:
        verdict = t["verdict"] + (" (underpowered)" if t.get("underpowered") else "")
        table.add_row(
            t["task"], t["category"], t["metric"], str(t["n"]), _score(t, "base"), _score(t, "adapted"),
            f"{t['delta']:+.4f}", f"[{t['ci'][0]:+.4f}, {t['ci'][1]:+.4f}]", _p(t["p_value"]), _p(t["p_adjusted"]),
            Text(verdict, style=_VERDICT_STYLE.get(t["verdict"], "")),
        )
    return table


def _caption(data: dict[str, Any]) -> str:
    s = data["summary"]
    cfg = data.get("config", {})
    corr = CORRECTION_NAMES.get(cfg.get("correction", "holm"), cfg.get("correction"))
    regime = regime_of(data)
    where = "" if regime == "prompt" else f"regime {regime}: "
    if regime == "finetune":
        name, _, p_kind = seeds_test(data)
        test = f"{name} B={cfg.get('resamples')}, {p_kind} p"
    else:
        test = f"paired bootstrap B={cfg.get('resamples')}, permutation p"
    return (f"win {s['win']} · tie {s['tie']} · loss {s['loss']}   "
            f"({where}{test}, {corr}-adjusted, α={cfg.get('alpha')})")


def print_comparison(data: dict[str, Any], console: Console | None = None) -> None:
    """Print the comparison table."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
            console = Console(width=150)
    console.print(comparison_table(data))
    for t in data["tasks"]:
        for note in t.get("notes") or []:
            console.print(f"note: {t['task']}: {note}", markup=False, highlight=False)
