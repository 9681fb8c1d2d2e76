"""KILT provenance metrics and KILT-scores, as ``kilt/eval_retrieval.py`` and
``kilt/eval_downstream.py`` of facebookresearch/KILT compute them.

A prediction is a mapping ``{"answer": str | None, "provenance": list[dict] | None}`` (what
a KILT guess record holds: see :func:`dabench.data.readers.kilt_prediction`); a reference is
the gold record's raw ``output`` list (``Example.extra["output"]``). Provenance items are
compared on ``rank_keys`` (default ``["wikipedia_id"]``), each value as ``str(v).strip()``
and several keys joined with ``+``.

- R-precision: for each gold output (an evidence set), the share of its R distinct ids
  among the first R distinct predicted ids; the best over gold outputs.
- precision@k, recall@k, success_rate@k: on KILT's rank, where each evidence set counts as
  one point, placed where its last page is retrieved.
- KILT-scores (accuracy, EM, F1, ROUGE-L): the downstream value of an example, counted only
  when its page-level R-precision (``wikipedia_id``) is exactly 1.

All are means of per-example values: statistics ``(value, 1)``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from dabench.metrics.base import MeanOfExamples, Values
from dabench.metrics.text import (
    best_over_golds,
    exact_match,
    gold_set,
    rouge_l,
    strict_match,
    token_f1,
)

DEFAULT_RANK_KEYS: tuple[str, ...] = ("wikipedia_id",)

#: a prediction's provenance: retrieved items (``{"wikipedia_id": …, …}``) in rank order, or none
Provenance = Sequence[Mapping[str, Any]] | None
#: a gold record's raw ``output`` list: answers and evidence sets (``{"answer": …, "provenance": […]}``)
GoldOutputs = Sequence[Mapping[str, Any]]
#: KILT's rank: True where an evidence set completes, False for a page outside every set, and
#: ``"evidence_set:i"`` holding the place of a partly retrieved set
Rank = list[bool | str]


def output_ids(outputs: Sequence[Mapping[str, Any]], rank_keys: Sequence[str]) -> list[list[str]]:
    """Per output, its provenance ids (KILT ``_get_ids_list``): items missing a rank key
    are skipped, repeats dropped; an output without provenance gives an empty list."""
    ids_list = []
    for output in outputs:
        provs = (output["provenance"] or []) if isinstance(output, Mapping) and "provenance" in output else []
        ids = ("+".join(str(p[k]).strip() for k in rank_keys) for p in provs if all(k in p for k in rank_keys))
        ids_list.append(list(dict.fromkeys(ids)))
    return ids_list


def guess_ids(provenance: Provenance, rank_keys: Sequence[str]) -> list[str]:
    """The predicted ids, in rank order, without repeats."""
    if not provenance:
        return []
    return output_ids([{"provenance": list(provenance)}], rank_keys)[0]


def rprecision(provenance: Provenance, gold_outputs: GoldOutputs, rank_keys: Sequence[str] = DEFAULT_RANK_KEYS) -> float:
    """KILT's R-precision of one example (0 when the gold record has no outputs)."""
    guesses = guess_ids(provenance, rank_keys)
    best = 0.0
    for gold_ids in output_ids(gold_outputs, rank_keys):
        r = len(gold_ids)
        if r > 0:
            best = max(best, sum(1 for p in guesses[:r] if str(p).strip() in gold_ids) / r)
    return best


def kilt_rank(provenance: Provenance, gold_outputs: GoldOutputs,
              rank_keys: Sequence[str] = DEFAULT_RANK_KEYS) -> tuple[Rank, int]:
    """KILT's ``get_rank``: the rank list (True where an evidence set completes, False for a
    page outside every set, a placeholder for a partly retrieved set) and the number of
    distinct evidence sets."""
    guesses = guess_ids(provenance, rank_keys)
    if not guesses:
        return [], 0
    evidence_sets: list[set[str]] = []
    for output in gold_outputs:
        if isinstance(output, Mapping) and "provenance" in output:
            e_set = {
                "+".join(str(prov[k]).strip() for k in rank_keys if k in prov)
                for prov in output["provenance"] or []
            }
            if e_set not in evidence_sets:
                evidence_sets.append(e_set)
    rank: Rank = []
    for gid in guesses:
        gid = str(gid).strip()
        found = False
        for idx, e_set in enumerate(evidence_sets):
            point = f"evidence_set:{idx}"
            if gid in e_set:
                found = True
                if point in rank:
                    rank.remove(point)
                e_set.remove(gid)
                rank.append(True if len(e_set) == 0 else point)
        if not found:
            rank.append(False)
    return rank, len(evidence_sets)


def _count_true(items: Rank) -> int:
    return sum(1 for x in items if x is True)


def precision_at_k(provenance: Provenance, gold_outputs: GoldOutputs, k: int, rank_keys: Sequence[str] = DEFAULT_RANK_KEYS) -> float:
    rank, n_sets = kilt_rank(provenance, gold_outputs, rank_keys)
    return _count_true(rank[:k]) / k if n_sets > 0 else 0.0


def recall_at_k(provenance: Provenance, gold_outputs: GoldOutputs, k: int, rank_keys: Sequence[str] = DEFAULT_RANK_KEYS) -> float:
    rank, n_sets = kilt_rank(provenance, gold_outputs, rank_keys)
    return _count_true(rank[:k]) / n_sets if n_sets > 0 else 0.0


def success_rate_at_k(provenance: Provenance, gold_outputs: GoldOutputs, k: int, rank_keys: Sequence[str] = DEFAULT_RANK_KEYS) -> float:
    rank, n_sets = kilt_rank(provenance, gold_outputs, rank_keys)
    return float(any(x is True for x in rank[:k])) if n_sets > 0 else 0.0


def _gold_answers(outputs: GoldOutputs) -> list[str]:
    return gold_set([str(o["answer"]) for o in outputs if isinstance(o, Mapping) and o.get("answer")])


def _pred_field(pred: Any, key: str) -> Any:
    if isinstance(pred, Mapping):
        return pred.get(key)
    if key == "answer":
        return pred
    return None


class _KiltMetric(MeanOfExamples):
    """Base: predictions are ``{"answer", "provenance"}`` mappings, references raw gold
    ``output`` lists. Statistics: (value, 1)."""

    input_kind = "kilt"
    requires_provenance = True

    def __init__(self, rank_keys: Sequence[str] | None = None) -> None:
        self.rank_keys = tuple(rank_keys) if rank_keys else DEFAULT_RANK_KEYS

    def stats(self, predictions: Values, references: Values) -> np.ndarray:
        return super().stats(predictions, [list(gold or []) for gold in references])


class RPrecision(_KiltMetric):
    """Page-level (by default) R-precision."""

    name = "rprec"

    def example_value(self, i: int, pred: Any, gold_outputs: GoldOutputs) -> float:
        return rprecision(_pred_field(pred, "provenance"), gold_outputs, self.rank_keys)


class _AtK(_KiltMetric):
    """``{prefix}@k``: ``at_k`` of each example's provenance."""

    prefix = ""
    at_k: Callable[[Provenance, GoldOutputs, int, Sequence[str]], float]

    def __init__(self, k_at: int, rank_keys: Sequence[str] | None = None) -> None:
        super().__init__(rank_keys)
        if k_at <= 0:
            raise ValueError("k must be a positive integer")
        self.k_at = k_at
        self.name = f"{self.prefix}@{k_at}"

    def example_value(self, i: int, pred: Any, gold_outputs: GoldOutputs) -> float:
        return self.at_k(_pred_field(pred, "provenance"), gold_outputs, self.k_at, self.rank_keys)


class PrecisionAtK(_AtK):
    prefix = "precision"
    at_k = staticmethod(precision_at_k)


class RecallAtK(_AtK):
    prefix = "recall"
    at_k = staticmethod(recall_at_k)


class SuccessRateAtK(_AtK):
    prefix = "success_rate"
    binary_outcome = True
    at_k = staticmethod(success_rate_at_k)


class _KiltScore(_KiltMetric):
    """The best ``per_gold`` value over the gold answers, counted only when page-level
    R-precision is 1 (KILT always uses ``wikipedia_id`` here, whatever the task's rank keys)."""

    per_gold: Callable[[str, str], float]

    def example_value(self, i: int, pred: Any, gold_outputs: GoldOutputs) -> float:
        answer = _pred_field(pred, "answer")
        guess = "" if answer is None else str(answer).strip()
        if not guess:
            return 0.0
        golds = _gold_answers(gold_outputs)
        if not golds:
            raise ValueError("an example has no gold answers to score against")
        if rprecision(_pred_field(pred, "provenance"), gold_outputs, DEFAULT_RANK_KEYS) != 1:
            return 0.0
        return float(best_over_golds(self.per_gold, guess, golds))


class KiltAccuracy(_KiltScore):
    name = "kilt_accuracy"
    binary_outcome = True
    per_gold = staticmethod(strict_match)


class KiltEM(_KiltScore):
    name = "kilt_em"
    binary_outcome = True
    per_gold = staticmethod(exact_match)


class KiltF1(_KiltScore):
    name = "kilt_f1"
    per_gold = staticmethod(token_f1)


class KiltRougeL(_KiltScore):
    name = "kilt_rougel"
    per_gold = staticmethod(rouge_l)


__all__ = [
    "DEFAULT_RANK_KEYS",
    "KiltAccuracy",
    "KiltEM",
    "KiltF1",
    "KiltRougeL",
    "PrecisionAtK",
    "RPrecision",
    "RecallAtK",
    "SuccessRateAtK",
    "kilt_rank",
    "output_ids",
    "precision_at_k",
    "recall_at_k",
    "rprecision",
    "success_rate_at_k",
]
