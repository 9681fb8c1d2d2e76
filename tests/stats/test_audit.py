"""The statistics audit's reproductions (issue 11), each now giving the right answer:
degenerate intervals, the exact-McNemar MDE, too few resamples, and exactness by construction
(a model against itself is exactly zero whatever the CPU's BLAS)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from dabench.metrics import get_metric
from dabench.stats import decide, paired_test, paired_test_seeds
from dabench.stats.power import mcnemar_mde, mcnemar_power

from ._helpers import paired_labels


def test_no_margin_claim_from_a_degenerate_bootstrap():
    m = get_metric("accuracy", ["a", "b"])
    s = np.c_[[1.0, 0, 1, 1, 0], np.ones(5)]
    r = paired_test(m, s, s.copy(), margin=0.01)
    assert r.ci == (0.0, 0.0) and r.mde == float("inf")  # 5 examples can never give p < 0.05
    d = decide(r, r.p_value, margin=0.01)
    assert d["equivalent"] is False and d["non_inferior"] is False and d["underpowered"] is True
    assert "resampling unit" in d["reason"]


def test_a_single_cluster_or_a_few_examples_make_no_margin_claim():
    m = get_metric("accuracy", ["a", "b"])
    rng = np.random.default_rng(3)
    ref, pb, pa = paired_labels(rng, 40, 2, 0.7, 0.72)
    one = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), clusters=["c"] * 40, margin=0.5)
    d = decide(one, margin=0.5)
    assert (d["equivalent"], d["non_inferior"]) == (False, False) and "1 resampling unit" in d["reason"]
    few = paired_test(m, m.stats(pb[:8], ref[:8]), m.stats(pa[:8], ref[:8]), margin=0.9)
    assert decide(few, margin=0.9)["reason"].startswith("only 8 resampling unit")


def test_identical_predictions_on_many_examples_may_still_claim_equivalence():
    """Agreement on 2000 examples bounds the disagreement rate (and so |Δ|): the exact McNemar
    MDE with the fewest possible disagreements is below the margin, and the claim is made."""
    m = get_metric("accuracy", ["a", "b"])
    rng = np.random.default_rng(4)
    ref, pb, _ = paired_labels(rng, 2000, 2, 0.7, 0.7)
    s = m.stats(pb, ref)
    r = paired_test(m, s, s.copy(), resamples=200)
    assert 0 < r.mde < 0.01
    d = decide(r, margin=0.01)
    assert d["equivalent"] is True and d["reason"] is None
    assert decide(r, margin=0.002)["equivalent"] is False  # a margin the data cannot resolve


def test_zero_spread_with_a_non_binary_metric_is_not_estimable():
    m = get_metric("macro_f1", ["a", "b", "c"])
    rng = np.random.default_rng(5)
    ref, pb, _ = paired_labels(rng, 500, 3, 0.7, 0.7)
    s = m.stats(pb, ref)
    r = paired_test(m, s, s.copy(), resamples=200, margin=0.05)
    assert r.mde == float("inf") and any("no spread" in n for n in r.notes)
    d = decide(r)
    assert d["equivalent"] is False and "no spread" in d["reason"] and d["underpowered"] is True


def test_mde_of_exact_mcnemar_has_the_power_it_claims():
    """n = 500 with 15% disagreement: the normal formula's 0.0483 has power 0.77 under exact
    McNemar; the reported MDE has power 0.80 (checked exactly and by simulation)."""
    assert mcnemar_power(0.0483, 500, 0.15) == pytest.approx(0.7726, abs=5e-4)
    mde = mcnemar_mde(500, 0.15)
    assert mcnemar_power(mde, 500, 0.15) == pytest.approx(0.80, abs=1e-6)
    assert 0.049 < mde < 0.051
    rng = np.random.default_rng(8)
    reps, n, pi = 4000, 500, 0.15
    q = 0.5 + mde / (2 * pi)
    d = rng.binomial(n, pi, reps)
    w = rng.binomial(d, q)
    p = np.minimum(1.0, 2.0 * binom.cdf(np.minimum(w, d - w), d, 0.5))
    se = np.sqrt(0.8 * 0.2 / reps)
    assert abs(np.mean(p < 0.05) - 0.80) < 3 * se
    # and paired_test reports it for 0/1 outcomes on independent examples
    m = get_metric("accuracy", ["a", "b"])
    ref = rng.integers(0, 2, 500)
    pb = ref.copy()
    pa = ref.copy()
    flip_b, flip_a = rng.choice(500, 40, replace=False), rng.choice(500, 35, replace=False)
    pb[flip_b] = 1 - pb[flip_b]
    pa[flip_a] = 1 - pa[flip_a]
    r = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), resamples=200)
    disc = np.count_nonzero(pb != pa) / 500
    assert r.mde == pytest.approx(mcnemar_mde(500, disc), abs=1e-9)


@pytest.mark.parametrize("resamples", [0, 1, 39])
def test_too_few_resamples_are_refused(resamples):
    m = get_metric("accuracy", ["a", "b"])
    s = np.c_[[1.0, 0, 1, 1, 0] * 4, np.ones(20)]
    with pytest.raises(ValueError, match="too few for alpha=0.05"):
        paired_test(m, s, s[::-1].copy(), resamples=resamples)
    with pytest.raises(ValueError, match="too few"):
        paired_test_seeds(m, np.stack([s, s]), np.stack([s, s[::-1]]), resamples=resamples)
    with pytest.raises(ValueError, match="at least 200"):
        paired_test(m, s, s[::-1].copy(), resamples=100, alpha=0.01)


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "mcc", "pearson", "token_f1"])
def test_self_comparison_is_exact_by_construction(name, monkeypatch):
    """The adapted sums are the base sums plus the sums of the differences, so no product ever
    sums two equal columns: here a 'BLAS' that rounds every output column differently (as
    OpenBLAS's SkylakeX small-matrix kernel does) still gives Δ* = 0 in every resample, p = 1
    and CI [0, 0]."""
    import dabench.stats._resample as res_mod

    rng = np.random.default_rng(9)
    if name == "pearson":
        m = get_metric(name)
        y = rng.normal(2000, 1, 300)
        s = m.stats(y + rng.normal(size=300), y)
    elif name == "token_f1":
        m = get_metric(name)
        s = np.c_[rng.choice([0, 0.5, 1 / 3, 1], 300), np.ones(300)]
    else:
        m = get_metric(name, ["a", "b", "c"])
        ref, pb, _ = paired_labels(rng, 300, 3, 0.6, 0.6)
        s = m.stats(pb, ref)
    real_times = res_mod._times

    def noisy_times(counts, matrix):  # every output column rounds differently, as blocked kernels may
        out = real_times(counts, matrix)
        return out * (1 + 1e-15 * np.arange(1, out.shape[-1] + 1))

    monkeypatch.setattr(res_mod, "_times", noisy_times)
    r = paired_test(m, s, s.copy(), resamples=500, ci_method="bca")
    assert r.delta == 0.0 and r.p_value == 1.0 and r.ci == (0.0, 0.0)
    assert np.all(r.bootstrap_deltas == 0.0)
    runs = np.stack([s, s])
    seeds = paired_test_seeds(m, runs, runs.copy(), resamples=100)
    assert (seeds.delta, seeds.p_value, seeds.ci) == (0.0, 1.0, (0.0, 0.0))
