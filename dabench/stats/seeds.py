"""Paired test for models trained with several seeds (fine-tuning regime; see docs/statistics.md).

Each model has S runs (seeds) scored on the same n examples; Δ̂ = mean over adapted runs −
mean over base runs has two sources of uncertainty, each estimated once:

- **seeds**: ``V_seeds = s²_a / S_a + s²_b / S_b`` (s²: sample variance, ddof = 1, of a model's
  run scores) counts everything that changes from run to run.
- **examples**: one bootstrap of the examples (or clusters), **shared by every run of both
  models**; the covariance of two *different* runs' resampled scores holds only what they have
  in common (the examples, not their own noise), so ``V_examples = C̄_aa + C̄_bb − 2·C̄_ab``
  (mean covariance between distinct runs of a model, and between a base and an adapted run).

``SE² = V_examples + V_seeds``, with Student's t at Welch–Satterthwaite degrees of freedom as
the reference, so three seeds per model are not treated as if their variance were known. A
two-level bootstrap (examples, then each model's seeds) counts run noise twice and misses seed
variance (16% false rejections at α = 0.05 with 3 seeds in simulation);
``benchmarks/calibration.py`` measures this test instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np
from scipy.stats import t as student_t

from dabench.errors import PairingError
from dabench.metrics.base import Metric
from dabench.stats import _resample
from dabench.stats._units import Units, build_units
from dabench.stats.paired import _clean, check_common
from dabench.stats.power import t_test_mde


@dataclass
class SeedsResult:
    """Outcome of the paired seeds test (see :func:`paired_test_seeds`)."""

    metric: str
    n: int
    n_units: int
    clustered: bool
    seeds_base: int
    seeds_adapted: int
    base_scores: list[float]  #: the metric of each base seed on all examples
    adapted_scores: list[float]
    base: float  #: mean over base seeds
    base_sd: float | None  #: sd (ddof=1) over base seeds; None with one seed
    adapted: float
    adapted_sd: float | None
    delta: float  #: adapted mean − base mean
    ci: tuple[float, float]
    ci_tost: tuple[float, float]
    se: float  #: sqrt(var_examples + var_seeds)
    p_value: float  #: two-sided t test with Welch–Satterthwaite degrees of freedom
    p_values: dict[str, float]
    mde: float  #: minimum detectable |delta| at 80% power (noncentral t with ``df``)
    alpha: float
    margin: float | None
    resamples: int
    seed: int
    ci_method: str = "t"
    higher_is_better: bool = True
    var_examples: float = 0.0  #: variance of Δ̂ from sampling the examples
    var_seeds: float = 0.0  #: variance of Δ̂ from the seeds (training runs)
    seed_share: float | None = None  #: var_seeds / (var_examples + var_seeds)
    df: float | None = None  #: Welch–Satterthwaite degrees of freedom of the t reference
    notes: list[str] = field(default_factory=list)

    def interval(self, level: float) -> tuple[float, float]:
        """Interval of Δ at confidence ``level`` (Δ̂ ± t quantile · SE)."""
        return _t_interval(self.delta, self.se, self.df, level)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return _clean({k: getattr(self, k) for k in self.__dataclass_fields__})


def _t_interval(delta: float, se: float, df: float | None, level: float) -> tuple[float, float]:
    if not se > 0 or df is None:
        return float(delta), float(delta)
    half = float(student_t.ppf(0.5 + level / 2.0, df)) * se
    return float(delta - half), float(delta + half)


def _as_runs(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[0] < 1:
        raise ValueError(f"{what}: expected statistics of shape (seeds, n, k), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: statistics contain NaN or infinity")
    return arr


def _distinct_runs(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct runs of ``(R, n, k)`` statistics and, for every run, its distinct index.

    Runs with identical statistics are scored once, so they get bitwise-identical scores on
    every resample whatever the BLAS (one column, not two summed in different orders)."""
    keys: dict[bytes, int] = {}
    index = np.fromiter((keys.setdefault(np.ascontiguousarray(r).tobytes(), len(keys)) for r in runs),
                        dtype=np.int64, count=runs.shape[0])
    first = np.array([int(np.flatnonzero(index == j)[0]) for j in range(len(keys))], dtype=np.int64)
    return runs[first], index


def _run_scores(units: Units, counts: np.ndarray, n_runs: int, k: int) -> np.ndarray:
    """Score of every (distinct) run on every resample, ``(b, runs)``."""
    metric = units.metric
    counts = np.asarray(counts, dtype=np.float64)
    if units.decomposable:
        summed = np.asarray(counts @ units.base_matrix).reshape(counts.shape[0], n_runs, k)
        return metric.score_from_stats(summed)
    rc = units.row_counts(counts)
    return np.stack([metric.score_resamples(units.base[:, r * k:(r + 1) * k], rc) for r in range(n_runs)], axis=1)


def _mean_cov(cov: np.ndarray, rows: np.ndarray, cols: np.ndarray, distinct: bool) -> float:
    """Mean covariance between runs ``rows`` and runs ``cols`` (only pairs of different runs
    when ``distinct``; the diagonal when a model has a single run)."""
    block = cov[np.ix_(rows, cols)]
    if not distinct:
        return float(block.mean())
    s = block.shape[0]
    if s < 2:
        return float(block[0, 0])
    return float((block.sum() - np.trace(block)) / (s * (s - 1)))


def paired_test_seeds(
    metric: Metric,
    base_stats_by_seed: Any,
    adapted_stats_by_seed: Any,
    *,
    clusters: Sequence[Hashable] | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    margin: float | None = None,
) -> SeedsResult:
    """Paired test of Δ between two models with several seeds each (see the module docstring).

    ``base_stats_by_seed``: ``(S_b, n, k)``; ``adapted_stats_by_seed``: ``(S_a, n, k)``; all
    runs on the same aligned n examples. ``clusters``: optional length-n cluster keys (the
    resampling unit of the example part). ``resamples``: bootstrap resamples of the examples.
    """
    check_common(resamples, seed, alpha, "percentile", margin)
    base = _as_runs(base_stats_by_seed, "base statistics")
    adapted = _as_runs(adapted_stats_by_seed, "adapted statistics")
    if base.shape[1:] != adapted.shape[1:]:
        raise PairingError(
            f"base and adapted runs differ in (examples, statistics): {base.shape[1:]} vs {adapted.shape[1:]}"
        )
    sb_n, sa_n = base.shape[0], adapted.shape[0]
    n, k = base.shape[1], base.shape[2]
    runs = np.concatenate([base, adapted], axis=0)
    runs = np.stack([metric.condition(r) for r in runs])
    distinct, run_of = _distinct_runs(runs)
    d_runs = distinct.shape[0]
    wide = distinct.transpose(1, 0, 2).reshape(n, d_runs * k)
    # the runs are conditioned one by one above: conditioning the wide table would mix runs
    units = build_units(metric, wide, wide, clusters, condition=False)

    full = _run_scores(units, units.mult[None, :], d_runs, k)[0][run_of]
    base_scores, adapted_scores = full[:sb_n], full[sb_n:]
    base_mean, adapted_mean = float(base_scores.mean()), float(adapted_scores.mean())
    delta = adapted_mean - base_mean
    sd = lambda s: float(np.std(s, ddof=1)) if s.shape[0] > 1 else None  # noqa: E731
    notes: list[str] = []

    parts: list[tuple[float, int]] = []
    same_runs = sb_n == sa_n and sorted(run_of[:sb_n].tolist()) == sorted(run_of[sb_n:].tolist())
    if same_runs:
        # the two arms are the same runs: a model compared with itself
        var_ex = var_seeds = 0.0
        notes.append("both models have the same runs: Δ = 0 exactly")
    else:
        rng = np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(1)[0])
        scores = np.empty((int(resamples), d_runs))
        width = max(units.n_types, units.base.shape[0], d_runs * k, _resample.draw_width(units))
        for lo, hi in _resample.blocks(int(resamples), width):
            scores[lo:hi] = _run_scores(units, _resample.draw_counts(rng, units, hi - lo), d_runs, k)
        cov = np.atleast_2d(np.cov(scores[:, run_of], rowvar=False, ddof=1))
        b_idx, a_idx = np.arange(sb_n), np.arange(sb_n, sb_n + sa_n)
        var_ex = max(0.0, _mean_cov(cov, a_idx, a_idx, True) + _mean_cov(cov, b_idx, b_idx, True)
                     - 2.0 * _mean_cov(cov, b_idx, a_idx, False))
        var_b = float(np.var(base_scores, ddof=1)) if sb_n > 1 else None
        var_a = float(np.var(adapted_scores, ddof=1)) if sa_n > 1 else None
        if var_b is None and var_a is None:
            notes.append("one seed per model: seed-to-seed variance cannot be estimated; the test covers "
                         "example sampling only")
            var_b = var_a = 0.0
        elif var_b is None or var_a is None:
            which = "base" if var_b is None else "adapted"
            notes.append(f"one {which} seed: its seed variance is taken to equal the other model's")
            var_b = var_a if var_b is None else var_b
            var_a = var_b if var_a is None else var_a
        var_seeds = var_b / sb_n + var_a / sa_n
        parts = [(var_ex, units.n_units - 1), (var_b / sb_n, max(sb_n - 1, sa_n - 1)),
                 (var_a / sa_n, max(sa_n - 1, sb_n - 1))]
    total = var_ex + var_seeds
    se = math.sqrt(total)
    if se > 0:
        den = sum(v * v / d for v, d in parts if d > 0 and v > 0)
        dof = total * total / den if den > 0 else float(units.n_units - 1)
        df: float | None = dof
        p = float(min(1.0, 2.0 * student_t.sf(abs(delta / se), dof)))
        mde = t_test_mde(se, dof, alpha)
    else:
        df = None
        p = 1.0
        mde = math.inf
        if not same_runs:
            notes.append("no variance between runs or examples: the data cannot bound Δ")
    return SeedsResult(
        metric=metric.name,
        n=n,
        n_units=units.n_units,
        clustered=units.clustered,
        seeds_base=sb_n,
        seeds_adapted=sa_n,
        base_scores=[float(x) for x in base_scores],
        adapted_scores=[float(x) for x in adapted_scores],
        base=base_mean,
        base_sd=sd(base_scores),
        adapted=adapted_mean,
        adapted_sd=sd(adapted_scores),
        delta=delta,
        ci=_t_interval(delta, se, df, 1 - alpha),
        ci_tost=_t_interval(delta, se, df, 1 - 2 * alpha),
        se=se,
        p_value=p,
        p_values={"seeds_t": p},
        mde=mde,
        alpha=alpha,
        margin=margin,
        resamples=int(resamples),
        seed=int(seed),
        higher_is_better=bool(metric.higher_is_better),
        var_examples=var_ex,
        var_seeds=var_seeds,
        seed_share=(var_seeds / total) if total > 0 else None,
        df=df,
        notes=notes,
    )
