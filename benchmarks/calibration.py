"""Calibration of dabench's paired tests by seeded simulation.

For each scenario it draws many data sets from a population where the truth is known and
reports, with Monte-Carlo standard errors (MC-SE):

- the type-I error at α = 0.05: how often a true null (two exchangeable models) is rejected;
- the coverage of the 95% interval: how often it contains the true Δ (a population with a real
  difference between the models).

Scenarios: the seeds test (``paired_test_seeds``) for 3 and 5 seeds per model × no / moderate /
large seed effect × n ∈ {200, 1000}; ``paired_test`` on accuracy and on macro-F1 (5 unbalanced
classes) with independent examples; and clustered data with the clusters passed.

A row is ``ok`` when its type-I error is at most α + 2 MC-SE (and, for tests meant to be exact or
asymptotically exact, at least 0.02) and its coverage is within 0.95 ± 2 MC-SE; ``conservative``
when it is valid but covers more than 0.95 + 2 MC-SE (Welch's t with 3 seeds is known to be:
the price of not assuming both models' seeds vary alike); ``FAIL`` otherwise. The script exits
1 when a row fails.

    python benchmarks/calibration.py            # about 6 minutes on 2 cores
    python benchmarks/calibration.py --quick    # a tenth of the replications, for a smoke test
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import expit

from dabench.metrics import get_metric
from dabench.stats import paired_test, paired_test_seeds

ALPHA = 0.05
LEVEL = 0.95
#: logit shift of the adapted model in the coverage scenarios
EFFECT = 0.3
#: sd of each model's own per-example log-odds (model × example interaction)
INTERACTION = 0.5


@dataclass
class Row:
    name: str
    type1: float
    type1_reps: int
    coverage: float
    coverage_reps: int
    exact: bool = True

    def mcse(self, rate: float, reps: int) -> float:
        return math.sqrt(rate * (1 - rate) / reps)

    @property
    def verdict(self) -> str:
        """``ok``: type-I ≤ α + 2 MC-SE (≥ 0.02) and coverage within 0.95 ± 2 MC-SE;
        ``conservative``: valid (type-I ≤ α + 2 MC-SE, coverage ≥ 0.95 − 2 MC-SE) but covering
        more than 0.95 + 2 MC-SE; ``FAIL``: anti-conservative, or far too conservative."""
        t1_hi = ALPHA + 2 * self.mcse(ALPHA, self.type1_reps)
        cov_se = self.mcse(LEVEL, self.coverage_reps)
        if self.type1 > t1_hi or self.coverage < LEVEL - 2 * cov_se or (self.exact and self.type1 < 0.02):
            return "FAIL"
        return "ok" if self.coverage <= LEVEL + 2 * cov_se else "conservative"

    def line(self) -> str:
        return (f"{self.name:<50} type-I {self.type1:.4f} ± {self.mcse(ALPHA, self.type1_reps):.4f}   "
                f"coverage {self.coverage:.4f} ± {self.mcse(LEVEL, self.coverage_reps):.4f}   {self.verdict}")


def _normal_mean(f: Callable[[np.ndarray], np.ndarray], sd: float) -> float:
    """E[f(Z)] for Z ~ N(0, sd²) by Gauss–Hermite quadrature (exact to ~1e-12 here)."""
    x, w = np.polynomial.hermite_e.hermegauss(120)
    return float(np.sum(w * f(sd * x)) / np.sqrt(2 * np.pi))


# ------------------------------------------------------------------------------ seeds test


def _seed_runs(rng: np.random.Generator, logit: np.ndarray, seed_sd: float, seeds: int) -> np.ndarray:
    """``seeds`` runs of one model: per-run shift w ~ N(0, seed_sd²), per-example Bernoulli outcomes."""
    n = logit.shape[0]
    w = rng.normal(0.0, seed_sd, seeds)
    correct = rng.random((seeds, n)) < expit(logit[None, :] + w[:, None])
    out = np.ones((seeds, n, 2))
    out[:, :, 0] = correct
    return out


def seeds_row(seeds: int, seed_sd: float, n: int, reps: int, resamples: int, label: str) -> Row:
    m = get_metric("accuracy", ["wrong", "right"])
    rng = np.random.default_rng([seeds, int(seed_sd * 100), n])
    total_sd = math.sqrt(1 + INTERACTION**2 + seed_sd**2)
    truth = (_normal_mean(lambda z: expit(0.8 + EFFECT + z), total_sd)
             - _normal_mean(lambda z: expit(0.8 + z), total_sd))
    rejected = covered = 0
    for r in range(reps):
        a = rng.normal(size=n)
        # null: two exchangeable models (each its own per-example interaction)
        base = _seed_runs(rng, 0.8 + a + rng.normal(0, INTERACTION, n), seed_sd, seeds)
        adapted = _seed_runs(rng, 0.8 + a + rng.normal(0, INTERACTION, n), seed_sd, seeds)
        rejected += paired_test_seeds(m, base, adapted, resamples=resamples, seed=r).p_value < ALPHA
        # alternative: the adapted model is better by EFFECT in log-odds
        base = _seed_runs(rng, 0.8 + a + rng.normal(0, INTERACTION, n), seed_sd, seeds)
        adapted = _seed_runs(rng, 0.8 + EFFECT + a + rng.normal(0, INTERACTION, n), seed_sd, seeds)
        lo, hi = paired_test_seeds(m, base, adapted, resamples=resamples, seed=r).ci
        covered += lo <= truth <= hi
    name = f"seeds test, {seeds} seeds, {label} seed effect, n={n}"
    return Row(name, rejected / reps, reps, covered / reps, reps)


# ------------------------------------------------------------------------- paired_test


def accuracy_row(n: int, reps: int, resamples: int) -> Row:
    m = get_metric("accuracy", ["wrong", "right"])
    rng = np.random.default_rng(11)
    sd = math.sqrt(1 + INTERACTION**2)
    truth = _normal_mean(lambda z: expit(0.5 + EFFECT + z), sd) - _normal_mean(lambda z: expit(0.5 + z), sd)
    rejected = covered = 0
    ones = np.ones(n)
    for r in range(reps):
        a = rng.normal(size=n)
        pb = expit(0.5 + a + rng.normal(0, INTERACTION, n))
        pa = expit(0.5 + a + rng.normal(0, INTERACTION, n))
        sb, sa = np.c_[rng.random(n) < pb, ones], np.c_[rng.random(n) < pa, ones]
        rejected += paired_test(m, sb, sa, resamples=resamples, seed=r).p_value < ALPHA
        pa = expit(0.5 + EFFECT + a + rng.normal(0, INTERACTION, n))
        sb, sa = np.c_[rng.random(n) < pb, ones], np.c_[rng.random(n) < pa, ones]
        lo, hi = paired_test(m, sb, sa, resamples=resamples, seed=r).ci
        covered += lo <= truth <= hi
    return Row(f"accuracy, independent examples, n={n}", rejected / reps, reps, covered / reps, reps)


CLASS_SHARES = np.array([0.45, 0.25, 0.15, 0.10, 0.05])


def _labels(rng: np.random.Generator, ref: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Predictions right with per-example probability ``acc``, else a uniform other class."""
    K = CLASS_SHARES.shape[0]
    wrong = rng.random(ref.shape[0]) >= acc
    return np.where(wrong, (ref + rng.integers(1, K, ref.shape[0])) % K, ref)


def macro_f1_row(n: int, reps: int, resamples: int) -> Row:
    K = CLASS_SHARES.shape[0]
    m = get_metric("macro_f1", [str(i) for i in range(K)])
    rng = np.random.default_rng(12)
    # a large population fixes the true Δ of macro-F1 (a ratio, so no closed form)
    pop = 2_000_000
    ref = rng.choice(K, pop, p=CLASS_SHARES)
    a = rng.normal(size=pop)
    acc_b, acc_a = expit(0.6 + a), expit(0.6 + EFFECT + a)
    pb, pa = _labels(rng, ref, acc_b), _labels(rng, ref, acc_a)
    truth = m.score(pa, ref) - m.score(pb, ref)
    null_a = _labels(rng, ref, acc_b)
    rejected = covered = 0
    for r in range(reps):
        i = rng.integers(0, pop, n)
        sb = m.stats(pb[i], ref[i])
        rejected += paired_test(m, sb, m.stats(null_a[i], ref[i]), resamples=resamples, seed=r).p_value < ALPHA
        lo, hi = paired_test(m, sb, m.stats(pa[i], ref[i]), resamples=resamples, seed=r).ci
        covered += lo <= truth <= hi
    return Row(f"macro-F1, 5 unbalanced classes, n={n}", rejected / reps, reps, covered / reps, reps)


def clustered_row(clusters: int, size: int, reps: int, resamples: int) -> Row:
    """Examples in clusters sharing a random effect (sentences of one abstract); the clusters
    are passed, so they are the resampling and swapping unit."""
    m = get_metric("accuracy", ["wrong", "right"])
    rng = np.random.default_rng(13)
    sd = math.sqrt(1 + 0.8**2 + INTERACTION**2)
    truth = _normal_mean(lambda z: expit(0.4 + EFFECT + z), sd) - _normal_mean(lambda z: expit(0.4 + z), sd)
    keys = np.repeat(np.arange(clusters), size)
    n = clusters * size
    ones = np.ones(n)
    rejected = covered = 0
    for r in range(reps):
        # a cluster effect both models share, example noise, and each model's own cluster effect
        u = np.repeat(rng.normal(size=clusters), size) + rng.normal(0, 0.8, n)
        pb = expit(0.4 + u + INTERACTION * np.repeat(rng.normal(size=clusters), size))
        pa = expit(0.4 + u + INTERACTION * np.repeat(rng.normal(size=clusters), size))
        sb, sa = np.c_[rng.random(n) < pb, ones], np.c_[rng.random(n) < pa, ones]
        rejected += paired_test(m, sb, sa, clusters=keys, resamples=resamples, seed=r).p_value < ALPHA
        pa = expit(0.4 + EFFECT + u + INTERACTION * np.repeat(rng.normal(size=clusters), size))
        sa = np.c_[rng.random(n) < pa, ones]
        lo, hi = paired_test(m, sb, sa, clusters=keys, resamples=resamples, seed=r).ci
        covered += lo <= truth <= hi
    return Row(f"accuracy, {clusters} clusters of {size}, clusters passed", rejected / reps, reps,
               covered / reps, reps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the replications (smoke test)")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    reps = lambda k: max(20, int(k * scale))  # noqa: E731
    started = time.perf_counter()
    rows: list[Row] = []
    print(f"alpha={ALPHA}, interval level={LEVEL}; ± is one Monte-Carlo standard error; "
          f"ok: type-I <= alpha + 2 MC-SE (>= 0.02), |coverage - 0.95| <= 2 MC-SE", flush=True)
    for seeds in (3, 5):
        for label, seed_sd in (("no", 0.0), ("moderate", 0.25), ("large", 0.5)):
            for n in (200, 1000):
                rows.append(seeds_row(seeds, seed_sd, n, reps(1000), 400, label))
                print(rows[-1].line(), flush=True)
    for make in (lambda: accuracy_row(300, reps(2000), 999), lambda: macro_f1_row(1000, reps(1000), 999),
                 lambda: clustered_row(60, 5, reps(1500), 999)):
        rows.append(make())
        print(rows[-1].line(), flush=True)
    failed = [r for r in rows if r.verdict == "FAIL"]
    conservative = [r for r in rows if r.verdict == "conservative"]
    print(f"{len(rows) - len(failed) - len(conservative)} ok, {len(conservative)} conservative, "
          f"{len(failed)} failed  ({time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
