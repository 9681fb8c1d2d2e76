"""Behaviour of the public API: self-comparison, reproducibility, clusters, decisions,
summaries, seeds, serialisation and errors."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from dabench.errors import PairingError
from dabench.metrics import METRICS, get_metric
from dabench.stats import (
    DEFAULT_MDE_THRESHOLD,
    PairedResult,
    decide,
    minimum_detectable_effect,
    paired_test,
    paired_test_seeds,
    summarize,
)

from ._helpers import RepeatSpearman, paired_labels

LABELS = ["a", "b", "c", "d"]


def _label_case(name: str, n: int = 200, seed: int = 0, acc=(0.6, 0.7)):
    rng = np.random.default_rng(seed)
    K = 2 if name == "f1" else 4
    ref, pb, pa = paired_labels(rng, n, K, *acc)
    m = get_metric(name, LABELS[:K])
    return m, m.stats(pb, ref), m.stats(pa, ref)


def _cases():
    for name in ["accuracy", "macro_f1", "micro_f1", "f1", "mcc"]:
        yield name, _label_case(name)
    rng = np.random.default_rng(1)
    y = rng.normal(size=60)
    rs = RepeatSpearman()
    yield "repeat_spearman", (rs, rs.stats(y + rng.normal(size=60), y), rs.stats(y + rng.normal(size=60), y))
    for name in ("pearson", "spearman"):
        if name in METRICS:
            m = get_metric(name)
            yield name, (m, m.stats(y + rng.normal(size=60), y), m.stats(y + rng.normal(size=60), y))


CASES = dict(_cases())


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("clustered", [False, True])
@pytest.mark.parametrize("ci_method", ["percentile", "bca"])
def test_model_against_itself_is_never_significant(name, clustered, ci_method):
    m, sb, _ = CASES[name]
    n = sb.shape[0]
    clusters = (np.arange(n) // 3) if clustered else None
    B = 60 if name == "repeat_spearman" else 400
    res = paired_test(m, sb, sb.copy(), clusters=clusters, resamples=B, ci_method=ci_method, margin=0.01)
    assert res.delta == 0.0
    assert res.p_value == 1.0
    assert all(p == 1.0 for p in res.p_values.values()), res.p_values
    assert res.ci == (0.0, 0.0)
    # 200 examples on which the models never disagree cannot bound Δ within ±0.01: no margin
    # claim, an honest (non-zero) MDE, a tie flagged underpowered, and the reason
    assert res.mde > 0.01
    d = decide(res, res.p_value, margin=0.01)
    assert (d["verdict"], d["equivalent"], d["non_inferior"], d["underpowered"]) == ("tie", False, False, True)
    assert "no spread" in d["reason"] or "resampling unit" in d["reason"]


@pytest.mark.parametrize("name", ["accuracy", "macro_f1", "mcc"])
def test_observed_scores_and_reproducibility(name):
    m, sb, sa = _label_case(name, n=300, seed=3)
    r1 = paired_test(m, sb, sa, resamples=500, seed=7)
    r2 = paired_test(m, sb, sa, resamples=500, seed=7)
    r3 = paired_test(m, sb, sa, resamples=500, seed=8)
    assert r1.to_dict() == r2.to_dict()
    assert r1.ci != r3.ci
    assert r1.base == pytest.approx(float(m.score_from_stats(sb.sum(0))), abs=1e-12)
    assert r1.adapted == pytest.approx(float(m.score_from_stats(sa.sum(0))), abs=1e-12)
    assert r1.delta == pytest.approx(r1.adapted - r1.base, abs=1e-15)


def test_result_does_not_depend_on_example_order():
    m, sb, sa = _label_case("macro_f1", n=400, seed=4)
    perm = np.random.default_rng(0).permutation(400)
    r1 = paired_test(m, sb, sa, resamples=300, seed=1)
    r2 = paired_test(m, sb[perm], sa[perm], resamples=300, seed=1)
    np.testing.assert_allclose(r1.bootstrap_deltas, r2.bootstrap_deltas, atol=1e-12)
    assert r1.p_value == pytest.approx(r2.p_value)


def test_singleton_clusters_equal_no_clusters():
    m, sb, sa = _label_case("macro_f1", n=300, seed=5)
    r1 = paired_test(m, sb, sa, resamples=300)
    r2 = paired_test(m, sb, sa, resamples=300, clusters=[f"id{i}" for i in range(300)])
    np.testing.assert_allclose(r1.bootstrap_deltas, r2.bootstrap_deltas, atol=1e-12)
    assert r1.p_value == pytest.approx(r2.p_value)


def test_cluster_keys_all_missing_mean_no_clusters_and_partial_is_an_error():
    m, sb, sa = _label_case("accuracy", n=50, seed=10)
    r1 = paired_test(m, sb, sa, resamples=200)
    r2 = paired_test(m, sb, sa, resamples=200, clusters=[None] * 50)
    assert r2.clustered is False and r2.to_dict() == r1.to_dict()
    with pytest.raises(PairingError, match="no cluster key"):
        paired_test(m, sb, sa, clusters=[None] * 25 + ["a"] * 25)


def test_a_single_cluster_carries_no_evidence():
    m, sb, sa = _label_case("accuracy", n=40, seed=11, acc=(0.3, 0.9))
    res = paired_test(m, sb, sa, resamples=200, clusters=["one"] * 40)
    assert res.n_units == 1 and res.delta > 0.3
    assert res.p_value == 1.0 and res.p_values["bootstrap"] == 1.0 and res.notes
    assert decide(res)["verdict"] == "tie"


def test_clusters_widen_the_interval_when_outcomes_are_correlated_within_clusters():
    rng = np.random.default_rng(6)
    G, size = 60, 10
    # within a cluster the adapted model is either better on every example or worse on every one
    better = np.repeat(rng.random(G) < 0.55, size)
    ref = rng.integers(0, 2, G * size)
    pb = np.where(better, 1 - ref, ref)
    pa = np.where(better, ref, 1 - ref)
    m = get_metric("accuracy", ["x", "y"])
    flat = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), resamples=2000)
    clus = paired_test(m, m.stats(pb, ref), m.stats(pa, ref), resamples=2000, clusters=np.repeat(np.arange(G), size))
    assert clus.n_units == G and flat.n_units == G * size
    assert clus.se > 2.5 * flat.se
    assert "mcnemar" not in clus.p_values and "mcnemar" in flat.p_values
    assert clus.p_value > flat.p_value


def test_exact_and_sampled_permutation_paths():
    m, sb, sa = _label_case("macro_f1", n=12, seed=2, acc=(0.4, 0.9))
    exact = paired_test(m, sb, sa, resamples=20_000)
    assert exact.permutation_method == "exact"
    sampled = paired_test(m, sb, sa, resamples=20_000, exact_limit=1)
    assert sampled.permutation_method == "sampled"
    # the sampled p estimates the exact one
    assert sampled.p_value == pytest.approx(exact.p_value, abs=4 * np.sqrt(0.25 / 20_000) + 1e-4)


def test_bca_falls_back_to_percentile_when_undefined():
    # resamples that all lie above the observed delta make the bias correction infinite
    m = get_metric("accuracy", ["x", "y"])
    sb = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    sa = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    indices = np.tile(np.array([[0, 0, 2, 2], [0, 2, 0, 2], [1, 0, 2, 0]]), (14, 1))
    res = paired_test(m, sb, sa, indices=indices, ci_method="bca")
    assert res.ci_method == "percentile" and any("BCa" in note for note in res.notes)
    assert res.ci == pytest.approx(tuple(np.quantile(res.bootstrap_deltas, [0.025, 0.975])))
    assert res.delta == 0.25 and min(res.bootstrap_deltas) > res.delta


def test_to_dict_is_json_and_round_trips():
    m, sb, sa = _label_case("accuracy", seed=9)
    res = paired_test(m, sb, sa, resamples=300, margin=0.02)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    for key in ("metric", "n", "base", "adapted", "delta", "ci", "p_value", "p_values", "mde", "alpha",
                "resamples", "seed", "ci_method"):
        assert key in d
    assert set(d["p_values"]) == {"bootstrap", "permutation", "mcnemar"}
    back = PairedResult.from_dict(json.loads(text))
    assert back.ci == res.ci and back.p_values == res.p_values
    assert decide(back, 0.5, margin=0.02) == decide(res, 0.5, margin=0.02)


def test_input_errors():
    m, sb, sa = _label_case("accuracy")
    with pytest.raises(PairingError):
        paired_test(m, sb, sa[:-1])
    with pytest.raises(PairingError):
        paired_test(m, sb, sa, clusters=[1, 2, 3])
    bad = sb.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        paired_test(m, bad, sa)
    with pytest.raises(ValueError, match="ci_method"):
        paired_test(m, sb, sa, ci_method="basic")
    with pytest.raises(ValueError, match="alpha"):
        paired_test(m, sb, sa, alpha=0.7)


# ------------------------------------------------------------------------------- decisions


def _fake(delta, lo, hi, mde=0.005, p=0.5, higher=True):
    return SimpleNamespace(delta=delta, ci_tost=(lo, hi), mde=mde, p_value=p, margin=None,
                           higher_is_better=higher)


def test_decide_verdicts_and_margins():
    assert decide(_fake(0.03, 0.01, 0.05), 0.001)["verdict"] == "win"
    assert decide(_fake(-0.03, -0.05, -0.01), 0.001)["verdict"] == "loss"
    assert decide(_fake(-0.03, -0.05, -0.01, higher=False), 0.001)["verdict"] == "win"
    assert decide(_fake(0.03, 0.01, 0.05), 0.05)["verdict"] == "tie"  # p must be < alpha
    d = decide(_fake(0.001, -0.004, 0.006), 0.6, margin=0.01)
    assert d == {"verdict": "tie", "equivalent": True, "non_inferior": True, "underpowered": False, "reason": None}
    d = decide(_fake(0.001, -0.02, 0.006, mde=0.03), 0.6, margin=0.01)
    assert d == {"verdict": "tie", "equivalent": False, "non_inferior": False, "underpowered": True, "reason": None}
    d = decide(_fake(0.0, -0.008, 0.02, mde=0.02), 0.6, margin=0.01)
    assert d["non_inferior"] is True and d["equivalent"] is False
    # without a margin: no equivalence verdicts; underpowered against the default threshold
    d = decide(_fake(0.0, -0.1, 0.1, mde=DEFAULT_MDE_THRESHOLD * 1.5), 0.9)
    assert d["equivalent"] is None and d["non_inferior"] is None and d["underpowered"] is True
    assert decide(_fake(0.0, -0.1, 0.1, mde=DEFAULT_MDE_THRESHOLD / 2), 0.9)["underpowered"] is False
    # a win is never flagged underpowered
    assert decide(_fake(0.05, 0.01, 0.09, mde=0.5), 0.001)["underpowered"] is False


def test_decide_uses_the_tost_level_of_its_own_alpha():
    m, sb, sa = _label_case("accuracy", n=400, seed=12, acc=(0.7, 0.71))
    res = paired_test(m, sb, sa, resamples=2000, alpha=0.05)
    lo90, hi90 = res.interval(0.90)
    assert (lo90, hi90) == res.ci_tost
    lo80, _ = res.interval(0.80)
    margin = -(lo90 + lo80) / 2  # between the two lower bounds
    assert decide(res, 0.9, alpha=0.05, margin=margin)["non_inferior"] is False
    assert decide(res, 0.9, alpha=0.10, margin=margin)["non_inferior"] is True


def test_mde_formula():
    assert minimum_detectable_effect(0.01, 0.05) == pytest.approx((1.959964 + 0.841621) * 0.01, rel=1e-5)
    m, sb, sa = _label_case("macro_f1", n=500, seed=13)
    res = paired_test(m, sb, sa, resamples=1000)
    assert res.mde == pytest.approx(2.8016 * res.se, rel=1e-3)
    assert res.se == pytest.approx(np.std(res.bootstrap_deltas, ddof=1))


def test_summarize_shares():
    decisions = [{"verdict": v, "underpowered": v == "tie"} for v in ["win"] * 2 + ["tie"] * 3 + ["loss"] * 5]
    s = summarize(decisions)
    assert (s["n"], s["win"], s["tie"], s["loss"], s["underpowered"]) == (10, 2, 3, 5, 3)
    assert s["shares"] == {"win": 0.2, "tie": 0.3, "loss": 0.5}
    assert summarize(["win", "tie"])["shares"]["win"] == 0.5
    with pytest.raises(ValueError):
        summarize(["draw"])


# ------------------------------------------------------------------------------- seeds


def _seed_runs(rng, S, ref, acc, K=4):
    runs = []
    for _ in range(S):
        wrong = rng.random(ref.size) >= acc
        runs.append(np.where(wrong, (ref + rng.integers(1, K, ref.size)) % K, ref))
    return runs


def test_seeds_mean_sd_and_self_comparison():
    rng = np.random.default_rng(14)
    ref = rng.integers(0, 4, 300)
    m = get_metric("macro_f1", LABELS)
    base_runs = _seed_runs(rng, 3, ref, 0.6)
    adapted_runs = _seed_runs(rng, 5, ref, 0.7)
    sb = np.stack([m.stats(p, ref) for p in base_runs])
    sa = np.stack([m.stats(p, ref) for p in adapted_runs])
    res = paired_test_seeds(m, sb, sa, resamples=1000)
    f1s_b = [f1_score(ref, p, average="macro") for p in base_runs]
    f1s_a = [f1_score(ref, p, average="macro") for p in adapted_runs]
    np.testing.assert_allclose(res.base_scores, f1s_b, atol=1e-12)
    assert res.base == pytest.approx(np.mean(f1s_b)) and res.base_sd == pytest.approx(np.std(f1s_b, ddof=1))
    assert res.adapted == pytest.approx(np.mean(f1s_a)) and res.adapted_sd == pytest.approx(np.std(f1s_a, ddof=1))
    assert res.delta == pytest.approx(np.mean(f1s_a) - np.mean(f1s_b))
    assert res.ci[0] < res.delta < res.ci[1]
    assert res.p_value < 0.01 and decide(res, res.p_value)["verdict"] == "win"
    json.dumps(res.to_dict(), allow_nan=False)
    same = paired_test_seeds(m, sb, sb.copy(), resamples=500)
    assert same.delta == 0.0 and same.p_value == 1.0 and decide(same)["verdict"] == "tie"


def test_seeds_with_identical_runs_reduce_to_the_paired_bootstrap():
    """With no seed-to-seed variation the seeds test is a paired test of the examples: its SE
    is the paired bootstrap's, and identical runs are scored bitwise alike (sd exactly 0)."""
    m, sb, sa = _label_case("macro_f1", n=400, seed=15)
    one = paired_test(m, sb, sa, resamples=4000)
    many = paired_test_seeds(m, np.stack([sb] * 3), np.stack([sa] * 4), resamples=4000)
    assert many.delta == pytest.approx(one.delta, abs=1e-12)
    assert many.base_sd == 0.0 and many.adapted_sd == 0.0 and many.var_seeds == 0.0
    assert many.seed_share == 0.0 and many.df == 399
    assert many.se == pytest.approx(one.se, rel=0.08)
    np.testing.assert_allclose(many.ci, one.ci, atol=0.15 * (one.ci[1] - one.ci[0]))


def test_seed_variation_widens_the_interval_and_is_reported():
    rng = np.random.default_rng(16)
    ref = rng.integers(0, 4, 2000)
    m = get_metric("accuracy", LABELS)
    # seeds differ a lot in quality: the seed level dominates the uncertainty
    sb = np.stack([m.stats(p, ref) for acc in (0.55, 0.75) for p in _seed_runs(rng, 1, ref, acc)])
    sa = np.stack([m.stats(p, ref) for acc in (0.6, 0.8) for p in _seed_runs(rng, 1, ref, acc)])
    two = paired_test_seeds(m, sb, sa, resamples=2000)
    pooled = paired_test(m, sb[0], sa[0], resamples=2000)
    assert two.se > 3 * pooled.se
    assert two.p_values == {"seeds_t": two.p_value}
    assert two.seed_share > 0.9 and two.var_seeds == pytest.approx(
        np.var(two.base_scores, ddof=1) / 2 + np.var(two.adapted_scores, ddof=1) / 2)
    # two seeds per model: about 2 degrees of freedom, so the interval uses t, not z
    assert 1.5 < two.df < 3.5
    from scipy.stats import t as student_t

    half = (two.ci[1] - two.ci[0]) / 2
    assert half == pytest.approx(student_t.ppf(0.975, two.df) * two.se)
    json.dumps(two.to_dict(), allow_nan=False)


def _issue_runs(rng, a, seed_sd, S, shift=0.0):
    from scipy.special import expit

    n = a.shape[0]
    return np.stack([np.c_[(rng.random(n) < expit(0.8 + a + w + shift)).astype(float), np.ones(n)]
                     for w in rng.normal(0, seed_sd, S)])


@pytest.mark.parametrize("seed_sd", [0.0, 0.5])
def test_seeds_test_is_calibrated_on_the_audit_reproduction(seed_sd):
    """The audit's reproduction (3 seeds, 300 examples, 300 replications): the old two-level
    bootstrap rejected a true null 15.7% of the time with a large seed effect and 0% with none;
    this test rejects about 5% in both (band: ±3 binomial standard errors)."""
    m, rng, rej = get_metric("accuracy", ["a", "b"]), np.random.default_rng(1), []
    for r in range(300):
        a = rng.normal(size=300)
        res = paired_test_seeds(m, _issue_runs(rng, a, seed_sd, 3), _issue_runs(rng, a, seed_sd, 3),
                                resamples=1000, seed=r)
        rej.append(res.p_value < 0.05)
    se = np.sqrt(0.05 * 0.95 / 300)
    assert 0.05 - 3 * se <= np.mean(rej) <= 0.05 + 3 * se, np.mean(rej)


def test_seeds_model_against_itself_is_exact_and_one_seed_is_explained():
    m, sb, sa = _label_case("accuracy", n=300, seed=17)
    runs = np.stack([sb, sa, sb])
    same = paired_test_seeds(m, runs, runs[::-1].copy(), resamples=200)
    assert (same.delta, same.p_value, same.ci, same.se) == (0.0, 1.0, (0.0, 0.0), 0.0)
    d = decide(same, margin=0.01)
    assert d["verdict"] == "tie" and d["equivalent"] is False and d["reason"]
    one = paired_test_seeds(m, sb[None], sa[None], resamples=400)
    assert any("one seed per model" in note for note in one.notes)
    assert one.se == pytest.approx(paired_test(m, sb, sa, resamples=400).se, rel=0.15)
