"""From generated text to the answer that is scored, and from an example to its gold target.

:func:`extract_answer` turns a model's generated continuation into the prediction the task's
metrics score, following the spec's ``generation`` settings, so both models of a comparison
are read the same way; :func:`target_text` is the gold continuation of a few-shot demonstration.
"""

from __future__ import annotations

import re

from dabench.data.example import Example
from dabench.taskspec import TaskSpec

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def cut_at_stop(text: str, stop: list[str] | tuple[str, ...]) -> str:
    """``text`` up to the earliest occurrence of any stop sequence (engines may return
    the stop sequence or what follows it)."""
    hits = [i for i in (text.find(s) for s in stop if s) if i != -1]
    return text[:min(hits, default=len(text))]


def extract_answer(spec: TaskSpec, text: str) -> str:
    """The answer in a model's generated ``text``: cut at the first stop sequence, apply the
    extraction rule (see :class:`~dabench.taskspec.Generation`), strip whitespace and the
    ``trim`` characters; when nothing is left, the spec's ``fallback`` (or ``""``)."""
    gen = spec.generation_config()
    text = cut_at_stop(text, gen.stop)
    if gen.extraction == "first_line":
        answer = next((ln for ln in text.split("\n") if ln.strip()), "")
    elif gen.extraction == "strip":
        answer = text
    elif gen.extraction == "regex":
        m = re.search(gen.pattern or "", text)
        answer = "" if m is None else (m.group(1) if m.re.groups >= 1 and m.group(1) is not None else m.group(0))
    elif gen.extraction == "number":
        m = _NUMBER.search(text)
        answer = "" if m is None else m.group(0)
    else:  # pragma: no cover - validated by the spec
        raise ValueError(f"unknown extraction {gen.extraction!r}")
    answer = answer.strip()
    if gen.trim:
        answer = answer.strip(gen.trim + " \t\n")
    if not answer and gen.fallback is not None:
        return gen.fallback
    return answer


def target_text(spec: TaskSpec, example: Example) -> str:
    """The gold continuation of ``example`` (without the template's target delimiter):
    the label's verbaliser (classification), the gold score (regression) or the first gold
    answer (generation; ``""`` when the example has none)."""
    if spec.type == "classification":
        return spec.verbalizers[example.label or ""]
    if spec.type == "regression":
        return example.label or ""
    return example.answers[0] if example.answers else ""
