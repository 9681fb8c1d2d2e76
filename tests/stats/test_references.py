"""dabench.stats against independent references: statsmodels (McNemar, multipletests), scipy
(permutation_test, bootstrap), sklearn metrics on fixed resamples, brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from dabench.metrics import METRICS, get_metric
from dabench.stats import adjust_pvalues, mcnemar_exact, mcnemar_from_outcomes, paired_test

from ._helpers import RepeatSpearman, paired_labels

LABELS4 = ["a", "b", "c", "d"]


# ------------------------------------------------------------------------------- McNemar


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (1, 0), (3, 3), (5, 12), (40, 25), (0, 30), (120, 97)])
def test_mcnemar_exact_matches_statsmodels(b, c):
    ref = mcnemar([[17, b], [c, 4]], exact=True).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(ref, rel=1e-12, abs=1e-300)


def test_mcnemar_of_accuracy_comparison_matches_statsmodels():
    rng = np.random.default_rng(3)
    ref, pb, pa = paired_labels(rng, 300, 3, 0.7, 0.76)
    cb, ca = pb == ref, pa == ref
    table = [[np.sum(cb & ca), np.sum(~cb & ca)], [np.sum(cb & ~ca), np.sum(~cb & ~ca)]]
    expected = mcnemar(table, exact=True).pvalue
    assert mcnemar_from_outcomes(cb, ca) == pytest.approx(expected, rel=1e-12)
    m = get_metric("accuracy", LABELS4[:3])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), resamples=200)
    assert res.p_values["mcnemar"] == pytest.approx(expected, rel=1e-12)
    # for a mean of 0/1 outcomes the exact sign-flip distribution is McNemar's binomial
    assert res.p_value == pytest.approx(expected, rel=1e-12)
    assert res.permutation_method == "mcnemar"


# ------------------------------------------------------------------------------- multiplicity


@pytest.mark.parametrize("method,sm", [("holm", "holm"), ("bh", "fdr_bh"), ("fdr_bh", "fdr_bh"), ("bonferroni", "bonferroni")])
def test_adjust_pvalues_matches_multipletests(method, sm):
    rng = np.random.default_rng(0)
    cases = [
        rng.random(12) ** 3,
        np.array([0.01, 0.04, 0.03, 0.2, 1.0, 0.0, 0.04]),  # ties, 0 and 1
        np.array([0.5]),
        np.full(5, 0.01),
    ]
    for p in cases:
        expected = multipletests(p, method=sm)[1]
        np.testing.assert_allclose(adjust_pvalues(p, method), expected, rtol=1e-12, atol=0)


def test_holm_is_not_statsmodels_default_holm_sidak():
    p = np.array([0.01, 0.02, 0.03, 0.04])
    assert not np.allclose(adjust_pvalues(p), multipletests(p)[1])


def test_adjust_pvalues_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown multiplicity"):
        adjust_pvalues([0.1], "sidak")
    with pytest.raises(ValueError):
        adjust_pvalues([0.1, np.nan])
    assert adjust_pvalues([], "holm").shape == (0,)


# ------------------------------------------------------------------------------- permutation


def _np_macro_f1(ref: np.ndarray, pred: np.ndarray, K: int) -> float:
    cm = np.bincount(ref * K + pred, minlength=K * K).reshape(K, K)
    tp = np.diag(cm)
    den = cm.sum(0) + cm.sum(1)
    return float(np.mean(np.where(den > 0, 2 * tp / np.maximum(den, 1), 0.0)))


def test_exact_permutation_matches_scipy_permutation_test_macro_f1():
    rng = np.random.default_rng(11)
    K, n = 4, 11
    ref, pb, pa = paired_labels(rng, n, K, 0.5, 0.8)
    res_scipy = sps.permutation_test(
        (pb, pa),
        lambda x, y: _np_macro_f1(ref, y, K) - _np_macro_f1(ref, x, K),
        permutation_type="samples",
        vectorized=False,
        n_resamples=np.inf,
    )
    m = get_metric("macro_f1", LABELS4)
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), resamples=100)
    assert res.permutation_method == "exact"
    assert res.p_value == pytest.approx(res_scipy.pvalue, rel=1e-12)
    assert res.delta == pytest.approx(res_scipy.statistic, abs=1e-12)


def test_exact_permutation_matches_scipy_for_non_decomposable_metric():
    rng = np.random.default_rng(5)
    n = 9
    y = rng.normal(size=n)
    xb = y + rng.normal(scale=1.5, size=n)
    xa = y + rng.normal(scale=0.5, size=n)
    rho = lambda x: sps.spearmanr(x, y).statistic  # noqa: E731
    res_scipy = sps.permutation_test(
        (xb, xa), lambda a, b: rho(b) - rho(a), permutation_type="samples", vectorized=False, n_resamples=np.inf
    )
    m = RepeatSpearman()
    res = paired_test(m, m.stats(xb, y), m.stats(xa, y), resamples=100)
    assert res.permutation_method == "exact"
    assert res.p_value == pytest.approx(res_scipy.pvalue, rel=1e-12)


def _brute_force_swap_p(score, pb, pa, groups):
    """Fraction of all 2^G group swaps with |Δ| >= |Δ_obs| (groups: list of index arrays)."""
    obs = score(pa) - score(pb)
    hits = 0
    total = 0
    for flips in itertools.product((0, 1), repeat=len(groups)):
        b, a = pb.copy(), pa.copy()
        for f, g in zip(flips, groups):
            if f:
                b[g], a[g] = pa[g], pb[g]
        hits += abs(score(a) - score(b)) >= abs(obs) - 1e-12
        total += 1
    return hits / total


@pytest.mark.parametrize("name", ["mcc", "micro_f1", "f1"])
def test_exact_permutation_matches_brute_force_enumeration(name):
    rng = np.random.default_rng({"mcc": 1, "micro_f1": 2, "f1": 3}[name])
    K = 2 if name == "f1" else 3
    ref, pb, pa = paired_labels(rng, 8, K, 0.4, 0.8)
    labels = list(range(K))
    skl = {
        "mcc": lambda p: matthews_corrcoef(ref, p),
        "micro_f1": lambda p: f1_score(ref, p, average="micro", labels=labels, zero_division=0),
        "f1": lambda p: f1_score(ref, p, pos_label=1, zero_division=0),
    }[name]
    expected = _brute_force_swap_p(skl, pb, pa, [np.array([i]) for i in range(8)])
    m = get_metric(name, LABELS4[:K])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref))
    assert res.permutation_method == "exact"
    assert res.p_value == pytest.approx(expected, abs=1e-12)


def test_exact_cluster_permutation_matches_brute_force():
    rng = np.random.default_rng(8)
    ref, pb, pa = paired_labels(rng, 18, 3, 0.5, 0.75)
    clusters = np.repeat(["u", "v", "w", "x", "y", "z"], 3)
    rng.shuffle(clusters)
    groups = [np.flatnonzero(clusters == c) for c in np.unique(clusters)]
    expected = _brute_force_swap_p(
        lambda p: f1_score(ref, p, average="macro", labels=[0, 1, 2], zero_division=0), pb, pa, groups
    )
    m = get_metric("macro_f1", LABELS4[:3])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), clusters=list(clusters))
    assert res.n_units == 6
    assert res.permutation_method == "exact"
    assert res.p_value == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------------------- bootstrap


def _delta_on_indices(ref, pb, pa, K):
    """Vectorised Δ macro-F1 on index arrays of shape (..., n), independent of dabench."""

    def stat(idx, axis=-1):
        idx = np.asarray(idx)
        flat = idx.reshape(-1, idx.shape[-1])
        out = np.array([_np_macro_f1(ref[i], pa[i], K) - _np_macro_f1(ref[i], pb[i], K) for i in flat])
        return out.reshape(idx.shape[:-1])

    return stat


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_interval_matches_scipy_bootstrap_on_same_resamples(method):
    rng = np.random.default_rng(21)
    K, n, B = 4, 80, 1500
    ref, pb, pa = paired_labels(rng, n, K, 0.6, 0.7)
    ci_scipy = sps.bootstrap(
        (np.arange(n),),
        _delta_on_indices(ref, pb, pa, K),
        vectorized=True,
        n_resamples=B,
        method=method,
        confidence_level=0.95,
        rng=np.random.default_rng(99),
    )
    indices = np.random.default_rng(99).integers(0, n, (B, n))  # scipy's own draws
    m = get_metric("macro_f1", LABELS4)
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), indices=indices, ci_method=method)
    assert res.ci_method == method
    np.testing.assert_allclose(res.ci, [ci_scipy.confidence_interval.low, ci_scipy.confidence_interval.high], rtol=1e-10)
    assert res.se == pytest.approx(ci_scipy.standard_error, rel=1e-10)
    np.testing.assert_allclose(res.bootstrap_deltas, ci_scipy.bootstrap_distribution, atol=1e-12)


def test_bca_with_clusters_matches_scipy_on_cluster_indices():
    """Clustered BCa = scipy's BCa with the cluster as the observation."""
    rng = np.random.default_rng(4)
    K, G, B = 3, 30, 1000
    sizes = rng.integers(1, 5, G)
    clusters = np.repeat(np.arange(G), sizes)
    n = clusters.size
    ref, pb, pa = paired_labels(rng, n, K, 0.6, 0.7)
    members = [np.flatnonzero(clusters == g) for g in range(G)]

    def stat(cidx, axis=-1):
        cidx = np.asarray(cidx)
        flat = cidx.reshape(-1, cidx.shape[-1])
        out = []
        for row in flat:
            i = np.concatenate([members[g] for g in row])
            out.append(_np_macro_f1(ref[i], pa[i], K) - _np_macro_f1(ref[i], pb[i], K))
        return np.array(out).reshape(cidx.shape[:-1])

    ci_scipy = sps.bootstrap((np.arange(G),), stat, vectorized=True, n_resamples=B, method="bca",
                             rng=np.random.default_rng(1))
    indices = np.random.default_rng(1).integers(0, G, (B, G))
    m = get_metric("macro_f1", LABELS4[:3])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), clusters=clusters, indices=indices, ci_method="bca")
    np.testing.assert_allclose(res.ci, [ci_scipy.confidence_interval.low, ci_scipy.confidence_interval.high], rtol=1e-10)


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "micro_f1", "f1", "mcc"])
def test_bootstrap_deltas_match_sklearn_on_fixed_indices(name):
    rng = np.random.default_rng(len(name))
    K = 2 if name == "f1" else 4
    n, B = 120, 40
    ref, pb, pa = paired_labels(rng, n, K, 0.55, 0.7)
    labels = list(range(K))
    skl = {
        "accuracy": lambda r, p: accuracy_score(r, p),
        "macro_f1": lambda r, p: f1_score(r, p, average="macro", labels=labels, zero_division=0),
        "micro_f1": lambda r, p: f1_score(r, p, average="micro", labels=labels, zero_division=0),
        "f1": lambda r, p: f1_score(r, p, pos_label=1, zero_division=0),
        "mcc": lambda r, p: matthews_corrcoef(r, p),
    }[name]
    indices = rng.integers(0, n, (B, n))
    expected = np.array([skl(ref[i], pa[i]) - skl(ref[i], pb[i]) for i in indices])
    m = get_metric(name, LABELS4[:K])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), indices=indices)
    np.testing.assert_allclose(res.bootstrap_deltas, expected, atol=1e-12)
    assert res.base == pytest.approx(skl(ref, pb), abs=1e-12)
    assert res.adapted == pytest.approx(skl(ref, pa), abs=1e-12)


def test_cluster_bootstrap_deltas_match_sklearn_on_expanded_indices():
    rng = np.random.default_rng(6)
    G, B, K = 25, 40, 3
    clusters = rng.integers(0, G, 150).astype(str)
    ref, pb, pa = paired_labels(rng, 150, K, 0.6, 0.7)
    order = list(dict.fromkeys(clusters))  # clusters in order of first appearance
    members = {c: np.flatnonzero(clusters == c) for c in order}
    indices = rng.integers(0, len(order), (B, len(order)))
    mf1 = lambda r, p: f1_score(r, p, average="macro", labels=[0, 1, 2], zero_division=0)  # noqa: E731
    expected = []
    for row in indices:
        i = np.concatenate([members[order[g]] for g in row])
        expected.append(mf1(ref[i], pa[i]) - mf1(ref[i], pb[i]))
    m = get_metric("macro_f1", LABELS4[:3])
    res = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), clusters=clusters, indices=indices)
    np.testing.assert_allclose(res.bootstrap_deltas, expected, atol=1e-12)


def test_non_decomposable_bootstrap_matches_repeated_spearman_on_fixed_indices():
    rng = np.random.default_rng(9)
    n, B = 40, 45
    y = rng.normal(size=n).round(1)  # ties
    xb, xa = y + rng.normal(size=n), y + rng.normal(scale=0.5, size=n)
    indices = rng.integers(0, n, (B, n))
    rho = lambda x, i: sps.spearmanr(x[i], y[i]).statistic  # noqa: E731
    expected = np.array([rho(xa, i) - rho(xb, i) for i in indices])
    m = RepeatSpearman()
    res = paired_test(m, m.stats(xb, y), m.stats(xa, y), indices=indices, resamples=20)
    np.testing.assert_allclose(res.bootstrap_deltas, expected, atol=1e-12)
    if "spearman" in METRICS:  # the registry's vectorised Spearman gives the same resamples
        sp = get_metric("spearman")
        res2 = paired_test(sp, sp.stats(xb, y), sp.stats(xa, y), indices=indices, resamples=20)
        np.testing.assert_allclose(res2.bootstrap_deltas, expected, atol=1e-10)


def test_bca_with_many_tied_resamples_matches_scipy():
    """Token-F1 takes few distinct values, so many resampled Δ* equal Δ mathematically but are
    summed in another order than Δ itself: the bias correction must count them as ties (the
    audit found a CI 2e-4 away from scipy's when they were compared strictly). The reference is
    scipy's BCa on the same values ×6, integers, whose sums are exact, so its ties are exact;
    BCa is equivariant under scaling, so its interval / 6 is the right answer."""
    rng = np.random.default_rng(31)
    n, B = 60, 2000
    sixths = rng.choice([0, 2, 3, 4, 5, 6], n).astype(float)
    sixths_a = np.where(rng.random(n) < 0.7, sixths, rng.choice([0, 2, 3, 4, 5, 6], n).astype(float))
    ci_scipy = sps.bootstrap((sixths_a - sixths,), np.mean, n_resamples=B, method="BCa", rng=np.random.default_rng(5))
    indices = np.random.default_rng(5).integers(0, n, (B, n))
    m = get_metric("token_f1")
    sb, sa = np.c_[sixths / 6, np.ones(n)], np.c_[sixths_a / 6, np.ones(n)]
    res = paired_test(m, sb, sa, indices=indices, ci_method="bca")
    ties = np.abs(res.bootstrap_deltas - res.delta) < 1e-12
    assert ties.sum() >= 5 and np.count_nonzero(res.bootstrap_deltas[ties] != res.delta) > 0  # inexact ties occur
    expected = np.array([ci_scipy.confidence_interval.low, ci_scipy.confidence_interval.high]) / 6
    np.testing.assert_allclose(res.ci, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loc,scale", [(2000.0, 1.0), (1e4, 0.01), (-3e5, 2.0)])
def test_pearson_is_precise_far_from_zero(loc, scale):
    """Pearson from raw moments lost 2e-9 at 2000 ± 1 and 7.5e-4 at 1e4 ± 0.01; the centred
    moments agree with scipy to rounding."""
    rng = np.random.default_rng(7)
    y = rng.normal(loc, scale, 400)
    xb, xa = y + rng.normal(0, scale, 400), y + rng.normal(0, 0.5 * scale, 400)
    m = get_metric("pearson")
    res = paired_test(m, m.stats(xb, y), m.stats(xa, y), resamples=200)
    assert res.base == pytest.approx(sps.pearsonr(xb, y).statistic, abs=1e-12)
    assert res.adapted == pytest.approx(sps.pearsonr(xa, y).statistic, abs=1e-12)
    assert m.score(xa, y) == pytest.approx(sps.pearsonr(xa, y).statistic, abs=1e-12)
    indices = rng.integers(0, 400, (50, 400))
    res = paired_test(m, m.stats(xb, y), m.stats(xa, y), indices=indices)
    expected = [sps.pearsonr(xa[i], y[i]).statistic - sps.pearsonr(xb[i], y[i]).statistic for i in indices]
    np.testing.assert_allclose(res.bootstrap_deltas, expected, atol=1e-11)
