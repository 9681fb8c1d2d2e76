"""Answer-string metrics as KILT's downstream scorer computes them.

Reference: ``kilt/eval_downstream.py`` of facebookresearch/KILT. A prediction is one answer
string, a reference the set of gold answers of the example; each metric takes the best
value over the gold answers. A prediction that is empty after stripping scores 0 on every
metric (KILT skips it but still counts it). ROUGE-L is the ``rouge`` package's (1.0.x)
``rouge-l`` F score, re-implemented here: text is split into "sentences" at ``.``, words
at single spaces, word sets (not multisets) are compared, and the union-LCS counts the
distinct words of the longest common subsequences across sentence pairs; F is
``2·P·R / (P + R + 1e-8)`` exactly as in that package, which is why a perfect match scores
0.999999995.

Every metric here is a mean of per-example values: statistics ``(value, 1)``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

from dabench.metrics.base import MeanOfExamples

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace
    (KILT's / SQuAD's ``normalize_answer``)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised strings are equal."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """F1 of the bags of normalised tokens."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(pred_tokens)
    recall = 1.0 * num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def _rouge_sentences(text: str) -> list[str]:
    return [" ".join(chunk.split()) for chunk in text.split(".") if len(chunk) > 0]


def _lcs_words(x: list[str], y: list[str]) -> set[str]:
    """Words of the LCS of x and y, reconstructed with the ``rouge`` package's tie rule
    (go up when ``table[i-1][j] > table[i][j-1]``, else left)."""
    n, m = len(x), len(y)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        xi = x[i - 1]
        row, prev = table[i], table[i - 1]
        for j in range(1, m + 1):
            if xi == y[j - 1]:
                row[j] = prev[j - 1] + 1
            else:
                a, b = prev[j], row[j - 1]
                row[j] = a if a >= b else b
    out: set[str] = set()
    i, j = n, m
    while i > 0 and j > 0:
        if x[i - 1] == y[j - 1]:
            out.add(x[i - 1])
            i -= 1
            j -= 1
        elif table[i - 1][j] > table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return out


def rouge_l(prediction: str, gold: str) -> float:
    """ROUGE-L F (summary level) of ``prediction`` against ``gold``, as
    ``rouge.Rouge().get_scores(prediction, gold)[0]["rouge-l"]["f"]``; 0.0 where that
    package raises on an empty hypothesis or reference (KILT scores those 0.0)."""
    hyp = _rouge_sentences(prediction)
    ref = _rouge_sentences(gold)
    if not hyp or not ref:
        return 0.0
    hyp_words = [w for s in hyp for w in s.split(" ")]
    ref_words = [w for s in ref for w in s.split(" ")]
    m = len(set(ref_words))
    n = len(set(hyp_words))
    union: set[str] = set()
    hyp_split = [s.split(" ") for s in hyp]
    for ref_s in ref:
        ref_tokens = ref_s.split(" ")
        for hyp_tokens in hyp_split:
            union |= _lcs_words(ref_tokens, hyp_tokens)
    llcs = len(union)
    r_lcs = llcs / m
    p_lcs = llcs / n
    return 2.0 * ((p_lcs * r_lcs) / (p_lcs + r_lcs + 1e-8))


def best_over_golds(fn: Callable[[str, str], float], prediction: str, golds: Iterable[str]) -> float:
    """max over the gold answers of ``fn(prediction, gold)``."""
    golds = list(golds)
    if not golds:
        raise ValueError("an example has no gold answers to score against")
    return max(fn(prediction, g) for g in golds)


def strict_match(prediction: str, gold: str) -> float:
    """KILT's ``accuracy`` (best over the gold answers): the stripped prediction is exactly ``gold``."""
    return float(prediction == gold)


def gold_set(references: Sequence[str] | str) -> list[str]:
    """Gold answers as KILT's ``get_gold_answers`` keeps them: stripped, non-empty, unique."""
    if isinstance(references, str):
        references = [references]
    return list(dict.fromkeys(r for r in (str(x).strip() for x in references) if r))


class _AnswerMetric(MeanOfExamples):
    """Mean over examples of the best ``per_gold`` value over the example's gold answers.
    Statistics: (value, 1).

    ``predictions``: answer strings; ``references``: per example a sequence of gold answer
    strings (or one string).
    """

    input_kind = "text"
    per_gold: Callable[[str, str], float]

    def example_value(self, i: int, pred: Any, refs: Any) -> float:
        golds = gold_set(refs)
        if not golds:
            raise ValueError(f"example {i} has no gold answers to score against")
        guess = "" if pred is None else str(pred).strip()
        return 0.0 if not guess else best_over_golds(self.per_gold, guess, golds)


class AnswerAccuracy(_AnswerMetric):
    """KILT ``accuracy``: strict string match of the stripped prediction with a gold answer
    (fact checking, entity linking, slot filling)."""

    name = "answer_accuracy"
    binary_outcome = True
    per_gold = staticmethod(strict_match)


class ExactMatch(_AnswerMetric):
    """KILT / SQuAD exact match after answer normalisation."""

    name = "em"
    binary_outcome = True
    per_gold = staticmethod(exact_match)


class TokenF1(_AnswerMetric):
    """KILT / SQuAD token-level F1 after answer normalisation."""

    name = "token_f1"
    per_gold = staticmethod(token_f1)


class RougeL(_AnswerMetric):
    """ROUGE-L F as KILT computes it (no normalisation; the ``rouge`` package's rule)."""

    name = "rougel"
    per_gold = staticmethod(rouge_l)
