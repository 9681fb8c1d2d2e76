"""Paired statistics for head-to-head comparisons (pure numpy/scipy; knows nothing of models).

Public surface (see docs/statistics.md): :func:`paired_test` → :class:`PairedResult` (paired
bootstrap CI, percentile or BCa; paired permutation p, exact when small; exact McNemar for
binary outcomes; MDE; optional clusters), :func:`paired_test_seeds` → :class:`SeedsResult`
(seeds × examples, Welch–Satterthwaite t), :func:`adjust_pvalues` (Holm or Benjamini–Hochberg
across a comparison's tasks), :func:`decide` (win / tie / loss, TOST equivalence,
non-inferiority, underpowered), :func:`summarize` (win/tie/loss shares across comparisons),
:func:`mcnemar_exact`, :func:`mcnemar_from_outcomes`, :func:`minimum_detectable_effect`.
"""

from dabench.stats.decision import DEFAULT_MDE_THRESHOLD, decide, summarize
from dabench.stats.mcnemar import mcnemar_exact, mcnemar_from_outcomes
from dabench.stats.multiplicity import adjust_pvalues
from dabench.stats.paired import PairedResult, paired_test
from dabench.stats.permutation import EXACT_LIMIT
from dabench.stats.power import minimum_detectable_effect
from dabench.stats.seeds import SeedsResult, paired_test_seeds

__all__ = [
    "DEFAULT_MDE_THRESHOLD",
    "EXACT_LIMIT",
    "PairedResult",
    "SeedsResult",
    "adjust_pvalues",
    "decide",
    "mcnemar_exact",
    "mcnemar_from_outcomes",
    "minimum_detectable_effect",
    "paired_test",
    "paired_test_seeds",
    "summarize",
]
