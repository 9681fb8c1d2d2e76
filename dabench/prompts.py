"""Prompts for causal LMs: templates filled with an example's inputs, and few-shot shots.

Both models of a comparison get the same shots: they are drawn once per task from the
few-shot split with a seeded generator, independent of the model. When the task has no
few-shot split on disk, shots come from the evaluation split and are then left out of the
evaluated examples, so no example is scored with itself as a shot.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dabench.chat import PromptFormat
from dabench.data.answers import target_text as gold_target
from dabench.data.example import Example
from dabench.errors import TaskError
from dabench.taskspec import TaskSpec, Template


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise TaskError(f"template field {{{key}}} is not an input field of the task")


def render(template: Template, example: Example) -> str:
    """The template's text with the example's input fields filled in."""
    return template.text.format_map(_Fields(example.inputs))


def target_text(spec: TaskSpec, template: Template, label: str, fmt: PromptFormat | None = None) -> str:
    """What follows the prompt for a label: delimiter + verbaliser; in a chat format, the
    assistant's reply: the verbaliser alone."""
    return ("" if fmt is not None else template.target_delimiter) + spec.verbalizers[label]


def select_shots(pool: Sequence[Example], k: int, seed: int) -> list[Example]:
    """k distinct examples drawn from ``pool`` with a generator seeded by ``seed``."""
    if k <= 0:
        return []
    if k > len(pool):
        raise TaskError(f"--shots {k} asks for more examples than the few-shot pool holds ({len(pool)})")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(pool), size=k, replace=False)
    return [pool[i] for i in sorted(idx)]


def build_context(spec: TaskSpec, template: Template, example: Example, shots: Sequence[Example],
                  fmt: PromptFormat | None = None) -> str:
    """Few-shot demonstrations (each with its gold answer) followed by the example's prompt; in a
    chat format, the conversation rendered by the model's chat template up to the assistant's turn."""
    if fmt is not None:
        return fmt.render([(render(template, s), gold_target(spec, s)) for s in shots], render(template, example),
                          target_delimiter=template.target_delimiter, fewshot_delimiter=template.fewshot_delimiter)
    parts = [render(template, shot) + template.target_delimiter + gold_target(spec, shot) for shot in shots]
    parts.append(render(template, example))
    return template.fewshot_delimiter.join(parts)
