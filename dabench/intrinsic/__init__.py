"""Intrinsic domain metrics: held-out perplexity (causal LMs) and pseudo-perplexity (masked LMs).

Public surface:

- intrinsic tasks (``tasks/intrinsic/*.yml``) run through ``dabench.compare``, paired per
  document (the kind is :class:`~dabench.intrinsic.compare.IntrinsicPlan`);
- :class:`NegLogPerplexity` (headline, higher is better) and :class:`Perplexity` (secondary):
  metrics over per-document ``(nll, units)`` statistics, usable with :func:`dabench.stats.paired_test`;
- :func:`causal_nll`, :func:`pseudo_nll`: per-document scores of a loaded model;
- :class:`IntrinsicSpec`, :func:`get_intrinsic_registry`, :func:`load_documents`.
"""

from dabench.intrinsic.compare import document_stats
from dabench.intrinsic.documents import Document, DocumentSet, clean_text, load_documents
from dabench.intrinsic.metrics import INTRINSIC_METRICS, NegLogPerplexity, Perplexity
from dabench.intrinsic.scoring import DocScore, causal_nll, causal_windows, measure_of, pseudo_nll
from dabench.intrinsic.spec import IntrinsicSpec, get_intrinsic_registry

__all__ = [
    "INTRINSIC_METRICS",
    "DocScore",
    "Document",
    "DocumentSet",
    "IntrinsicSpec",
    "NegLogPerplexity",
    "Perplexity",
    "causal_nll",
    "causal_windows",
    "clean_text",
    "document_stats",
    "get_intrinsic_registry",
    "load_documents",
    "measure_of",
    "pseudo_nll",
]
