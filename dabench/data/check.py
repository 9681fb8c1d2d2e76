"""What ``dabench data check`` reports about a split: counts, label distribution over the
task's full label vocabulary, score range, answer statistics, clusters."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from dabench.data.example import Example
from dabench.taskspec import TaskSpec


def summarize(spec: TaskSpec, examples: Sequence[Example]) -> dict[str, Any]:
    """A JSON-ready summary of one split's examples."""
    out: dict[str, Any] = {"n": len(examples)}
    if spec.type == "classification":
        counts = Counter(ex.label for ex in examples)
        out["labels"] = {lab: counts.get(lab, 0) for lab in spec.labels}
        out["absent_labels"] = [lab for lab in spec.labels if counts.get(lab, 0) == 0]
    elif spec.type == "regression":
        scores = [float(ex.label) for ex in examples if ex.label is not None]
        if scores:
            out["score"] = {"min": min(scores), "max": max(scores), "mean": sum(scores) / len(scores)}
    if spec.type == "generation" or any(ex.answers for ex in examples):
        with_answers = [ex for ex in examples if ex.answers]
        n_answers = [len(ex.answers) for ex in with_answers]
        words = [len(a.split()) for ex in with_answers for a in ex.answers]
        out["answers"] = {
            "with_answers": len(with_answers),
            "without_answers": len(examples) - len(with_answers),
            "mean_answers_per_example": sum(n_answers) / len(n_answers) if n_answers else 0.0,
            "mean_answer_words": sum(words) / len(words) if words else 0.0,
        }
    empty = {name: sum(1 for ex in examples if not ex.inputs.get(name, "").strip()) for name in spec.fields}
    found: dict[str, Any] = {
        "with_provenance": sum(1 for ex in examples
                               if any(isinstance(o, dict) and o.get("provenance") for o in ex.extra.get("output", []))),
        "missing_input": sum(1 for ex in examples if ex.extra.get("missing_input")),
        "empty_inputs": {k: v for k, v in empty.items() if v},
        "clusters": len({ex.cluster for ex in examples if ex.cluster is not None}),
    }
    out.update((k, v) for k, v in found.items() if v)  # each only when there is something to report
    return out


def warnings(spec: TaskSpec, summary: dict[str, Any]) -> list[str]:
    """Things worth a line in the report that are not errors."""
    out = []
    if summary.get("missing_input"):
        out.append(f"{summary['missing_input']} examples have no input text (KILT TriviaQA files carry none: "
                   "fill it in with KILT's scripts/get_triviaqa_input.py)")
    if summary.get("empty_inputs"):
        fields = ", ".join(f"{k} ({v})" for k, v in summary["empty_inputs"].items())
        out.append(f"empty input fields: {fields}")
    ans = summary.get("answers")
    if spec.type == "generation" and ans and ans["without_answers"]:
        out.append(f"{ans['without_answers']} examples have no gold answer and cannot be scored")
    return out
