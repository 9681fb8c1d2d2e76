"""``paired_test``: everything dabench reports about Δ = adapted − base on one task.

One call builds the resampling units once (examples or clusters, compressed to distinct paired
rows), then runs the paired bootstrap (CI, bootstrap p, standard error, MDE) and the paired
permutation test (headline p), plus exact McNemar for binary per-example outcomes. The random
streams of the bootstrap and of the permutation test are spawned from ``seed``, so a result
is reproducible from (data, seed, resamples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from dabench.metrics.base import Metric
from dabench.stats import _resample, bootstrap
from dabench.stats._units import build_units
from dabench.stats.mcnemar import mcnemar_exact
from dabench.stats.permutation import EXACT_LIMIT, _binary_mean_outcomes, permutation_test
from dabench.stats.power import mcnemar_mde, minimum_detectable_effect

CI_METHODS = ("percentile", "bca")


def _clean(x: Any) -> Any:
    """JSON-safe value: non-finite floats become None, numpy scalars Python ones."""
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (tuple, list)):
        return [_clean(v) for v in x]
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return x


@dataclass
class PairedResult:
    """Outcome of a paired comparison of two models on one task (see :func:`paired_test`)."""

    metric: str
    n: int  #: paired examples
    n_units: int  #: resampling units (clusters, or examples)
    clustered: bool
    base: float
    adapted: float
    delta: float  #: adapted − base
    ci: tuple[float, float]  #: (1 − alpha) interval of delta
    ci_tost: tuple[float, float]  #: (1 − 2·alpha) interval of delta, used for TOST / non-inferiority
    se: float  #: bootstrap standard error of delta
    p_value: float  #: headline two-sided p (paired permutation test)
    p_values: dict[str, float]  #: "bootstrap", "permutation" and, for binary outcomes, "mcnemar"
    permutation_method: str  #: "exact", "mcnemar" or "sampled"
    mde: float  #: minimum detectable |delta| at 80% power of the headline test (inf: none detectable)
    alpha: float
    margin: float | None
    resamples: int
    seed: int
    ci_method: str  #: "percentile" or "bca" (the method actually used)
    higher_is_better: bool = True
    notes: list[str] = field(default_factory=list)
    #: the resampled deltas (not serialised)
    bootstrap_deltas: np.ndarray | None = field(default=None, repr=False, compare=False)
    _bca: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    def interval(self, level: float) -> tuple[float, float]:
        """Interval of delta at confidence ``level`` from the stored resamples (same CI method)."""
        d = self.bootstrap_deltas
        if d is None:
            if math.isclose(level, 1 - self.alpha):
                return self.ci
            if math.isclose(level, 1 - 2 * self.alpha):
                return self.ci_tost
            raise ValueError("this result carries no resamples; only its own levels are available")
        if self.ci_method == "bca" and self._bca is not None:
            out = bootstrap.bca_interval(d, self._bca[0], self._bca[1], level)
            if out is not None:
                return out
        return bootstrap.percentile_interval(d, level)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (resamples themselves left out)."""
        return _clean({k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("bootstrap_deltas", "_bca")})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PairedResult":
        """Inverse of :meth:`to_dict` (without resamples: :meth:`interval` then offers only
        the result's own two levels)."""
        fields: dict[str, Any] = {k: (float("nan") if v is None and k in ("se", "mde") else v) for k, v in data.items()}
        fields["ci"], fields["ci_tost"] = tuple(data["ci"]), tuple(data["ci_tost"])
        return cls(**fields)


def check_common(resamples: int, seed: int, alpha: float, ci_method: str, margin: float | None) -> None:
    """Validate the options shared by the paired tests (ValueError with one line)."""
    if isinstance(seed, bool) or int(seed) < 0:
        raise ValueError("seed must be a non-negative integer")
    if not 0.0 < alpha < 0.5:
        raise ValueError("alpha must lie in (0, 0.5)")
    # the (1 − α) interval's bounds, the α/2 and 1 − α/2 quantiles, need a resample in each tail
    # (B ≥ 2/α: 40 at α = 0.05); then a (count + 1)/(B + 1) p-value can fall below α
    need = math.ceil(2.0 / alpha - 1e-9)
    if int(resamples) < need:
        raise ValueError(f"resamples={int(resamples)} is too few for alpha={alpha:g}: the interval's tails need at "
                         f"least {need} resamples (10000 recommended)")
    if ci_method not in CI_METHODS:
        raise ValueError(f"unknown ci_method {ci_method!r}; use one of {', '.join(CI_METHODS)}")
    if margin is not None and not margin >= 0:
        raise ValueError("margin must be non-negative")


def paired_test(
    metric: Metric,
    base_stats: Any,
    adapted_stats: Any,
    *,
    clusters: Sequence[Hashable] | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    margin: float | None = None,
    ci_method: str = "percentile",
    exact_limit: int = EXACT_LIMIT,
    indices: np.ndarray | None = None,
) -> PairedResult:
    """Paired comparison of two models' per-example statistics on the same aligned examples.

    ``base_stats`` / ``adapted_stats``: ``(n, k)`` arrays from ``metric.stats`` on the same
    examples in the same order. ``clusters``: optional length-n cluster keys; the cluster is
    then the resampling (and swapping) unit. ``indices``: optional explicit bootstrap
    resamples as unit indices ``(B, G)`` (units: examples, or clusters in order of first
    appearance), replacing the random draws of the bootstrap.
    """
    check_common(resamples if indices is None else len(indices), seed, alpha, ci_method, margin)
    units = build_units(metric, base_stats, adapted_stats, clusters)
    boot_rng, perm_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(2))
    notes: list[str] = []

    sb, sa = _resample.observed(units)
    delta = sa - sb
    deltas = bootstrap.bootstrap_deltas(units, boot_rng, int(resamples), indices)
    B = deltas.shape[0]
    se = bootstrap.standard_error(deltas)
    p_boot = bootstrap.bootstrap_pvalue(deltas, delta)
    if units.n_units < 2:
        notes.append("a single resampling unit: the data carry no information on uncertainty")
        p_boot = 1.0

    bca = None
    used = ci_method
    if ci_method == "bca":
        jack, weights = _resample.jackknife_deltas(units)
        bca = bootstrap.bca_parameters(deltas, delta, jack, weights)
        if bootstrap.bca_interval(deltas, bca[0], bca[1], 1 - alpha) is None:
            notes.append("BCa interval undefined (degenerate resamples); percentile interval used")
            used, bca = "percentile", None

    p_perm, perm_method = permutation_test(units, perm_rng, int(resamples), exact_limit)
    p_values = {"bootstrap": p_boot, "permutation": p_perm}
    outcomes = _binary_mean_outcomes(units) if metric.binary_outcome else None
    if outcomes is not None:
        p_values["mcnemar"] = mcnemar_exact(*outcomes)
        # the headline test is exact McNemar: the MDE is that test's (honest at any n, also
        # when the models never disagree)
        mde = mcnemar_mde(units.n_examples, sum(outcomes) / units.n_examples, alpha)
    else:
        if metric.binary_outcome and units.clustered:
            notes.append("McNemar assumes independent examples; not reported for clustered data")
        mde = minimum_detectable_effect(se, alpha) if se > 0 and units.n_units >= 2 else math.inf
    if not se > 0:
        notes.append("the resamples have no spread (the models agree on every unit): the data cannot bound Δ, "
                     "so no margin claim rests on this interval")

    result = PairedResult(
        metric=metric.name,
        n=units.n_examples,
        n_units=units.n_units,
        clustered=units.clustered,
        base=sb,
        adapted=sa,
        delta=delta,
        ci=(0.0, 0.0),
        ci_tost=(0.0, 0.0),
        se=se,
        p_value=p_perm,
        p_values=p_values,
        permutation_method=perm_method,
        mde=mde,
        alpha=alpha,
        margin=margin,
        resamples=B,
        seed=int(seed),
        ci_method=used,
        higher_is_better=bool(metric.higher_is_better),
        notes=notes,
        bootstrap_deltas=deltas,
        _bca=bca,
    )
    result.ci = result.interval(1 - alpha)
    result.ci_tost = result.interval(1 - 2 * alpha)
    return result
