"""Number formatting and ordering shared by the Markdown, HTML, JUnit and gate outputs.

One place decides how a Δ, an interval or a p-value is printed, so a value reads the same in
every output, and every output is a pure function of the comparison (no locale, no clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

CATEGORY_ORDER = ("in-domain", "out-of-domain", "knowledge")
CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg"}
VERDICT_ORDER = ("win", "tie", "loss")


def num(x: float | None, digits: int = 3) -> str:
    """A score: fixed decimals for values of ordinary size, general format for large ones."""
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:.4g}"
    return f"{x:.{digits}f}"


def signed(x: float | None) -> str:
    """A difference, always with its sign (``+0.012``, ``-0.030``, ``+0.000``)."""
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:+.4g}"
    out = f"{x:+.3f}"
    return "+" + out[1:] if out.startswith("-") and float(out) == 0 else out


def interval(ci: Iterable[float]) -> str:
    """``[lo, hi]`` with signs."""
    lo, hi = list(ci)
    return f"[{signed(lo)}, {signed(hi)}]"


def pval(p: float | None) -> str:
    """A p-value: four decimals, or ``<0.0001``."""
    if p is None:
        return "n/a"
    if p < 1e-4:
        return "<0.0001"
    return f"{p:.4f}"


def p_is(p: float | None, name: str = "p") -> str:
    """``p = 0.0123`` or ``p < 0.0001`` (never ``p = <0.0001``)."""
    text = pval(p)
    return f"{name} {text[0]} {text[1:]}" if text.startswith("<") else f"{name} = {text}"


def pct(x: float) -> str:
    """A confidence level as a percentage without trailing zeros (``95``, ``90``, ``97.5``)."""
    return f"{100 * x:.6g}"


def ci_level(comparison: Mapping[str, Any]) -> float:
    """The two-sided confidence level of the stored intervals, ``1 - alpha``."""
    return 1.0 - float(comparison.get("config", {}).get("alpha", 0.05))


def category_rank(category: str) -> tuple[int, str]:
    """Sort key: the three known categories first, in their fixed order, then others by name."""
    if category in CATEGORY_ORDER:
        return (CATEGORY_ORDER.index(category), "")
    return (len(CATEGORY_ORDER), category)


def categories_of(tasks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The categories present, in display order."""
    return sorted({t["category"] for t in tasks}, key=category_rank)


def grouped_tasks(tasks: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Tasks grouped by category (display order), keeping their order within a category."""
    tasks = list(tasks)
    return [(c, [t for t in tasks if t["category"] == c]) for c in categories_of(tasks)]


def verdict_counts(tasks: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``{"win": w, "tie": t, "loss": l}`` counted from the tasks themselves."""
    out = {v: 0 for v in VERDICT_ORDER}
    for t in tasks:
        out[t["verdict"]] += 1
    return out


def flags(task: Mapping[str, Any]) -> list[str]:
    """Short flags for a task: underpowered, equivalent, non-inferior (when the comparison set them)."""
    out = []
    if task.get("underpowered"):
        out.append("underpowered")
    if task.get("equivalent") is True:
        out.append("equivalent")
    if task.get("non_inferior") is True:
        out.append("non-inferior")
    elif task.get("non_inferior") is False:
        out.append("not non-inferior")
    return out

