"""The CI gate: pass or fail a candidate checkpoint against a baseline, per task.

Pure: it reads a comparison dict (``base`` = the baseline, ``adapted`` = the candidate,
Δ = candidate − baseline) and decides; it never runs a model. ``dabench gate`` produces
the comparison (or reads a stored one) and calls :func:`evaluate`.

Two modes, both per task, with a margin ``M ≥ 0`` in the units of the task's headline metric
(``0.01`` = one point of accuracy):

``regression`` (default) — *block a significant regression*. A task fails when ``Δ < −M`` and
the two-sided test of ``H0: Δ = −M`` rejects at level α after Holm's correction over the gated
tasks (the gate fails if *any* task fails, so Holm keeps the chance of blocking a candidate with
no real regression at most α). With ``M = 0`` the test is the comparison's own paired permutation
test (its raw ``p_value``, re-adjusted with Holm whatever correction the comparison used), so a
failure is exactly a Holm ``loss``. With ``M > 0`` (the permutation null is Δ = 0) the p-value
comes from the stored bootstrap interval: se = its upper half-width / ``z(1 − α_c/2)`` (α_c: the
comparison's α) and ``p = 2·Φ((Δ + M)/se)``; for one task at α = α_c this fails exactly when
the interval lies wholly below −M.

``non-inferiority`` — *require evidence of no regression*. A task passes only when the
lower bound of the CI of Δ is above −M. The bound is the stored ``(1 − α)`` two-sided
interval's (with the comparison's α this is the usual one-sided test at α/2); a different
gate α rescales the lower half-width by ``z(1 − α/2)/z(1 − α_c/2)``. The gate passes only if
*every* task passes (an intersection–union test), which needs no multiplicity correction.

Exit codes: 0 pass, 1 fail (2, bad input, is raised as :class:`~dabench.errors.DabenchError`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm

from dabench.errors import DabenchError
from dabench.render import fmt
from dabench.comparison import as_dict

MODES: tuple[str, ...] = ("regression", "non-inferiority")

EXIT_PASS = 0
EXIT_FAIL = 1


@dataclass(frozen=True)
class TaskGate:
    """The gate's decision on one task, with the numbers behind it and a one-line reason."""

    task: str
    category: str
    metric: str
    n: int
    passed: bool
    reason: str
    baseline: float
    candidate: float
    delta: float
    ci: tuple[float, float]
    #: the raw p-value of the test used (regression mode), else None
    p_value: float | None = None
    #: the Holm-adjusted p-value (regression mode), else None
    p_holm: float | None = None
    #: the lower CI bound compared with −M (non-inferiority mode), else None
    lower_bound: float | None = None
    mde: float | None = None
    underpowered: bool = False


@dataclass(frozen=True)
class GateResult:
    """The gate over all tasks: it passes when every task passes."""

    mode: str
    margin: float
    alpha: float
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    tasks: tuple[TaskGate, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tasks)

    @property
    def failed_tasks(self) -> list[str]:
        return [t.task for t in self.tasks if not t.passed]

    @property
    def exit_code(self) -> int:
        return EXIT_PASS if self.passed else EXIT_FAIL

    def summary(self) -> str:
        """One line: ``gate PASSED ...`` or ``gate FAILED ... on: task, task``."""
        what = f"{self.mode} gate, margin {self.margin:g}, alpha {self.alpha:g}"
        if self.passed:
            return f"gate PASSED ({what}): all {len(self.tasks)} tasks pass"
        failed = self.failed_tasks
        return f"gate FAILED ({what}): {len(failed)} of {len(self.tasks)} tasks fail: {', '.join(failed)}"

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "dabench.gate/1", "passed": self.passed, "exit_code": self.exit_code, "mode": self.mode,
                "margin": self.margin, "alpha": self.alpha, "baseline": self.baseline, "candidate": self.candidate,
                "failed": self.failed_tasks, "summary": self.summary(), "notes": list(self.notes),
                "tasks": [{**asdict(t), "ci": list(t.ci)} for t in self.tasks]}


def _z(alpha: float) -> float:
    return float(norm.ppf(1.0 - alpha / 2.0))


def shifted_pvalue(delta: float, ci: tuple[float, float], margin: float, ci_alpha: float) -> float:
    """Two-sided p-value of ``H0: Δ = −margin`` from a stored ``(1 − ci_alpha)`` interval, its
    standard error from the half-width on the side of the null (asymmetric intervals respected)."""
    lo, hi = ci
    diff = delta + margin
    half = (hi - delta) if diff < 0 else (delta - lo)
    se = max(half, 0.0) / _z(ci_alpha)
    if se == 0.0:
        return 0.0 if diff != 0 else 1.0
    return float(min(1.0, 2.0 * norm.cdf(-abs(diff) / se)))


def null_pvalue(t: Mapping[str, Any], margin: float, ci_alpha: float) -> float:
    """Raw p-value of ``H0: Δ = −margin``: the comparison's own at margin 0, else from the stored CI;
    an undefined test counts, conservatively, as p = 1."""
    p = (float(t["p_value"]) if margin == 0 else
         shifted_pvalue(float(t["delta"]), (float(t["ci"][0]), float(t["ci"][1])), margin, ci_alpha))
    return p if math.isfinite(p) else 1.0


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (equal to statsmodels' ``multipletests(method="holm")``,
    without its per-call garbage collection): the k-th smallest p times (m − k + 1), made
    non-decreasing in that order, capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return [float(x) for x in out]


def _select(tasks: list[Mapping[str, Any]], names: Iterable[str] | None, source: str) -> list[Mapping[str, Any]]:
    if names is None:
        return tasks
    names = list(dict.fromkeys(names))
    by_name = {t["task"]: t for t in tasks}
    missing = [n for n in names if n not in by_name]
    if missing:
        have = ", ".join(by_name) or "none"
        raise DabenchError(f"{source}: no result for task(s) {', '.join(missing)} (it has: {have}); "
                           "gate only tasks the comparison evaluated, or re-run it with them")
    return [by_name[n] for n in names]


def evaluate(
    comparison: Any,
    *,
    mode: str = "regression",
    margin: float | None = None,
    alpha: float | None = None,
    tasks: Iterable[str] | None = None,
    source: str = "comparison",
) -> GateResult:
    """Gate a comparison (``base`` = baseline, ``adapted`` = candidate). ``margin`` and ``alpha``
    default to the comparison's (else 0 and 0.05); ``tasks`` restricts the gate (and Holm) to
    those tasks. Raises :class:`DabenchError` on invalid input."""
    data = as_dict(comparison, source)
    cfg = data.get("config", {}) or {}
    if mode not in MODES:
        raise DabenchError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    ci_alpha = float(cfg.get("alpha", 0.05) or 0.05)
    alpha = ci_alpha if alpha is None else float(alpha)
    if not 0.0 < alpha < 1.0 or math.isnan(alpha):
        raise DabenchError(f"--alpha must lie strictly between 0 and 1, not {alpha}")
    margin = float(cfg.get("margin") or 0.0) if margin is None else float(margin)
    if not margin >= 0.0 or math.isinf(margin):
        raise DabenchError(f"--margin must be a finite number >= 0 (a tolerated drop in the metric), not {margin}")
    if mode == "non-inferiority" and margin == 0:
        raise DabenchError("--mode non-inferiority needs --margin M > 0 (the largest drop you accept); "
                           "with M = 0 it would demand a significant improvement")
    selected = _select(list(data["tasks"]), tasks, source)
    if not selected:
        raise DabenchError(f"{source}: there are no tasks to gate")
    notes: list[str] = []
    if mode == "regression":
        results = _regression(selected, margin, alpha, ci_alpha)
        if margin > 0:
            notes.append("margin > 0: p-values of H0 Δ = −M come from the stored bootstrap CI (normal approximation)")
    else:
        results = _non_inferiority(selected, margin, alpha, ci_alpha)
        if alpha != ci_alpha:
            notes.append(f"CI bounds rescaled from the stored {fmt.pct(1 - ci_alpha)}% CI to {fmt.pct(1 - alpha)}% "
                         "(normal approximation)")
    return GateResult(mode=mode, margin=margin, alpha=alpha, baseline=dict(data["base"]),
                      candidate=dict(data["adapted"]), tasks=tuple(results), notes=tuple(notes))


def _common(t: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "task": t["task"], "category": t["category"], "metric": t["metric"], "n": int(t["n"]),
        "baseline": float(t["base"]), "candidate": float(t["adapted"]), "delta": float(t["delta"]),
        "ci": (float(t["ci"][0]), float(t["ci"][1])),
        "mde": None if t.get("mde") is None else float(t["mde"]),
        "underpowered": bool(t.get("underpowered")),
    }


def _finite(t: Mapping[str, Any], *keys: str) -> bool:
    return all(math.isfinite(float(v)) for v in [*(t[k] for k in keys), *t["ci"]])


_NOT_FINITE = ("no finite result (Δ, its CI or p-value is NaN or infinite: the metric is undefined on these "
               "predictions); the gate fails closed")


def _beyond(margin: float) -> str:
    return f" by more than the margin {margin:g}" if margin else ""


def _regression(tasks: list[Mapping[str, Any]], margin: float, alpha: float, ci_alpha: float) -> list[TaskGate]:
    level = fmt.pct(1 - ci_alpha)
    raw = [null_pvalue(t, margin, ci_alpha) for t in tasks]
    adjusted = holm(raw)
    out = []
    for t, p, p_adj in zip(tasks, raw, adjusted):
        if not _finite(t, "delta", "p_value"):
            out.append(TaskGate(**_common(t), passed=False, reason=_NOT_FINITE, p_value=p, p_holm=p_adj))
            continue
        worse = float(t["delta"]) < -margin
        failed = worse and p_adj < alpha
        effect = f"Δ {t['metric']} = {fmt.signed(t['delta'])} ({level}% CI {fmt.interval(t['ci'])})"
        if failed:
            reason = (f"candidate significantly worse than the baseline{_beyond(margin)}: {effect}, "
                      f"{fmt.p_is(p_adj, 'Holm-adjusted p')}, below alpha {alpha:g}")
        elif worse:
            reason = (f"no significant regression{_beyond(margin)}: {effect}, "
                      f"{fmt.p_is(p_adj, 'Holm-adjusted p')}, not below alpha {alpha:g}")
            if t.get("underpowered") or (t.get("mde") is not None and margin and float(t["mde"]) > margin):
                reason += f" (underpowered: MDE {fmt.num(t.get('mde'))}; a smaller regression may go unseen)"
        else:
            reason = f"candidate not below the baseline{_beyond(margin)}: {effect}"
        out.append(TaskGate(**_common(t), passed=not failed, reason=reason, p_value=p, p_holm=p_adj))
    return out


def _non_inferiority(tasks: list[Mapping[str, Any]], margin: float, alpha: float, ci_alpha: float) -> list[TaskGate]:
    level = fmt.pct(1 - alpha)
    scale = _z(alpha) / _z(ci_alpha)
    out = []
    for t in tasks:
        if not _finite(t, "delta"):
            out.append(TaskGate(**_common(t), passed=False, reason=_NOT_FINITE))
            continue
        delta, lo = float(t["delta"]), float(t["ci"][0])
        lower = lo if alpha == ci_alpha else delta - (delta - lo) * scale
        ok = lower > -margin
        effect = f"Δ {t['metric']} = {fmt.signed(delta)}, lower {level}% CI bound {fmt.signed(lower)}"
        if ok:
            reason = f"non-inferior: {effect} > -{margin:g}"
        else:
            reason = (f"non-inferiority not shown: {effect} <= -{margin:g}; a drop larger than the margin "
                      "cannot be ruled out")
            mde = t.get("mde")
            if mde is not None and float(mde) > margin:
                reason += f" (MDE {fmt.num(mde)} > margin: more examples are needed to show it)"
        out.append(TaskGate(**_common(t), passed=ok, reason=reason, lower_bound=lower))
    return out
