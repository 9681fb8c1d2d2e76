"""Verdicts across a comparison's tasks, and again across the tasks of several comparisons."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from dabench.comparison import TaskResult
from dabench.metrics import get_metric
from dabench.stats import paired_test
from dabench.verdicts import apply_verdicts, reapply_verdicts


def _tested(margin):
    """Five tasks of real paired tests: clear wins and losses, small shifts and exact ties."""
    rng = np.random.default_rng(3)
    acc = get_metric("accuracy")
    out = []
    for i, (n, pb, pa) in enumerate([(400, 0.55, 0.9), (300, 0.8, 0.78), (200, 0.5, 0.5), (500, 0.85, 0.55),
                                     (60, 0.9, 0.92)]):
        gold = rng.integers(0, 2, n)
        right_b = rng.random(n) < pb
        right_a = np.where(rng.random(n) < 0.5, right_b, rng.random(n) < pa)
        pred_b, pred_a = np.where(right_b, gold, 1 - gold), np.where(right_a, gold, 1 - gold)
        res = paired_test(acc, acc.stats(pred_b, gold), acc.stats(pred_a, gold), resamples=2000, seed=i, margin=margin)
        out.append((TaskResult.from_paired(res, task=f"t{i}", category="in-domain", metric="accuracy", n=n), res))
    return out


@pytest.mark.parametrize("correction", ["holm", "bh"])
@pytest.mark.parametrize("margin", [None, 0.02])
def test_reapplying_over_the_same_family_changes_nothing(correction, margin):
    tested = _tested(margin)
    first = apply_verdicts(tested, correction=correction, alpha=0.05, margin=margin)
    expected = [(r.p_adjusted, r.verdict, r.underpowered, r.equivalent, r.non_inferior) for r in copy.deepcopy(first)]
    again = reapply_verdicts(first, correction=correction, alpha=0.05, margin=margin)
    assert [(r.p_adjusted, r.verdict, r.underpowered, r.equivalent, r.non_inferior) for r in again] == expected
    assert {r.verdict for r in again} == {"win", "tie", "loss"} and any(r.underpowered for r in again)


def test_two_parts_become_one_holm_family():
    tested = _tested(None)
    part_a = apply_verdicts(tested[:2], correction="holm", alpha=0.05, margin=None)
    part_b = apply_verdicts(tested[2:], correction="holm", alpha=0.05, margin=None)
    merged = reapply_verdicts(part_a + part_b, correction="holm", alpha=0.05, margin=None)
    reference = multipletests([r.p_value for r in merged], alpha=0.05, method="holm")[1]
    assert [r.p_adjusted for r in merged] == pytest.approx(list(reference))
    together = apply_verdicts(_tested(None), correction="holm", alpha=0.05, margin=None)
    assert [(r.verdict, r.underpowered) for r in merged] == [(r.verdict, r.underpowered) for r in together]
