"""Plan what a task asks of a model, and run it through an engine into the store.

A :class:`TaskPlan` (examples, shots, template) is model-independent; its ``run_key`` and a model
fingerprint key the stored records. :func:`plan_run` makes it one model's :class:`~dabench.work.Run`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from dabench.data import load_split
from dabench.data.example import Example
from dabench.engines.base import Engine, ProgressFn, ScoreRequest
from dabench.errors import DabenchError, DataError, TaskError
from dabench.progress import Advance, Progress
from dabench.data.answers import extract_answer
from dabench.chat import PromptFormat
from dabench.prompts import build_context, select_shots, target_text
from dabench.store import RunInfo
from dabench.work import Run

if TYPE_CHECKING:
    from dabench.handles import ModelHandle
from dabench.taskspec import Template, TaskSpec

@dataclass
class TaskPlan:
    """Everything that determines the requests of one task, independent of the model."""

    spec: TaskSpec
    split: str
    examples: list[Example]
    shots: list[Example]
    template_id: str
    data_hash: str
    seed: int
    shot_source: str = ""
    #: the split the shots were drawn from (None: no shots)
    shot_split: str | None = None
    #: the chat format the prompts are rendered in (None: plain text)
    format: PromptFormat | None = None

    @property
    def template(self) -> Template:
        return self.spec.template(self.template_id)

    @property
    def prompt_label(self) -> str:
        """The template id, and the chat format's id when the prompts are chat-formatted."""
        return self.template_id if self.format is None else f"{self.template_id} · {self.format.id}"

    @property
    def run_key(self) -> str:
        payload = {
            "kind": "loglikelihood" if self.spec.type == "classification" else "generate",
            "spec": self.spec.spec_hash(),
            "data": self.data_hash,
            "split": self.split,
            "template": self.template_id,
            "shots": [s.id for s in self.shots],
            "shot_source": self.shot_source,
        }
        if self.format is not None:  # plain plans keep the keys they always had (stored records stay valid)
            payload["format"] = self.format.id
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:20]

    def contexts(self) -> list[str]:
        return _contexts(self, self.examples)

    def references(self) -> np.ndarray:
        """Gold label indices into ``spec.labels`` (classification tasks)."""
        # keyed by what an example's label may be: an unlabelled example (None) is a KeyError like an unknown label
        index: dict[str | None, int] = {lab: i for i, lab in enumerate(self.spec.labels)}
        return np.array([index[ex.label] for ex in self.examples], dtype=np.int64)


def plan_task(
    spec: TaskSpec,
    data_dir: Path | None,
    *,
    split: str | None = None,
    shots: int = 0,
    shots_split: str | None = None,
    seed: int = 0,
    limit: int | None = None,
    template_id: str | None = None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
) -> TaskPlan:
    """Read the task's data and fix its examples, shots and template. Shots come from the task's
    few-shot split or ``shots_split``; never silently from the evaluation split, never an evaluated example."""
    split = split or spec.eval_split
    examples, data_hash = load_split(spec, split, data_dir, overrides)
    if limit is not None:
        if limit <= 0:
            raise TaskError("--limit must be a positive number of examples")
        examples = examples[:limit]
    if not examples:
        raise TaskError(f"task {spec.name!r}: split {split!r} has no examples to evaluate")
    shot_list: list[Example] = []
    shot_source, pool_split = "", None
    if shots > 0:
        pool_split = shots_split or _fewshot_split(spec, shots)
        pool, pool_hash = _shot_pool(spec, pool_split, data_dir, overrides, shots, explicit=shots_split is not None)
        if pool_split == split or pool_hash == data_hash:
            evaluated = {ex.id for ex in examples}  # the same data: keep every evaluated example out of the prompt
            pool = [ex for ex in pool if ex.id not in evaluated]
            if len(pool) < shots:  # too few shots besides the evaluated examples
                raise TaskError(f"task {spec.name!r}: --shots {shots} from split {pool_split!r} leaves {len(pool)} "
                                f"examples besides the {len(evaluated)} evaluated ones; lower --limit or --shots, or "
                                "choose another --shots-split")
        shot_list = select_shots(pool, shots, seed)
        shot_source = f"{pool_split}:{pool_hash}"
    template = spec.template(template_id)
    return TaskPlan(spec, split, examples, shot_list, template.id, data_hash, seed, shot_source, pool_split)


def _fewshot_split(spec: TaskSpec, shots: int) -> str:
    """The task's own few-shot split; a task without one needs ``--shots-split``."""
    if spec.fewshot_split is None:
        raise TaskError(f"task {spec.name!r} has no few-shot split for --shots {shots}; pass --shots-split SPLIT "
                        f"to draw shots from one of {', '.join(spec.files)} (evaluated examples are never shots)")
    return spec.fewshot_split


def _shot_pool(spec: TaskSpec, pool_split: str, data_dir: Path | None,
               overrides: Mapping[str, str | os.PathLike] | None, shots: int, *, explicit: bool
               ) -> tuple[list[Example], str]:
    """The examples shots are drawn from and their file's hash. A missing few-shot file is an error,
    not a quiet fallback to the evaluation split (whose shots could be the evaluated examples)."""
    try:
        return load_split(spec, pool_split, data_dir, overrides)
    except DabenchError as exc:
        if explicit:
            raise
        others = ", ".join(s for s in spec.files if s != pool_split)
        raise DataError(f"--shots {shots}: few-shot file missing: {exc}; or pass --shots-split SPLIT to draw "
                        f"shots from another split ({others}) explicitly") from None


def plan_run(plan: TaskPlan, label: str) -> Run:
    """The work of ``plan`` for one model: every evaluated example's record, computed by a :class:`PromptJob`."""
    run = RunInfo(model_name=label, task=plan.spec.name, spec_hash=plan.spec.spec_hash(),
                  config={"split": plan.split, "template": plan.template_id, "shots": [s.id for s in plan.shots]})
    return Run(kind="prompt", task=plan.spec.name, label=f"{label} · {plan.spec.name}", run_key=plan.run_key,
               ids=[ex.id for ex in plan.examples], job=PromptJob(plan), info=run)


@dataclass(eq=False)
class PromptJob:
    """Records of a plan's examples from a model's engine (rendered and loaded only when needed)."""

    plan: TaskPlan

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance
                 ) -> list[tuple[str, dict[str, Any]]]:
        by_id = {ex.id: ex for ex in self.plan.examples}
        records = _compute(self.plan, handle.get(), [by_id[i] for i in ids], advance)
        return list(zip(ids, records))


def _compute(plan: TaskPlan, engine: Engine, examples: list[Example], advance: ProgressFn) -> list[dict[str, Any]]:
    """Records of ``examples``: a classifier head classifies the raw input fields (no prompt: shots do
    not apply); a causal LM scores the label verbalisers (classification: the prediction is the argmax)
    or decodes greedily and extracts the task's answer (every other task)."""
    if engine.kind == "classifier":
        if plan.shots:
            raise TaskError(f"task {plan.spec.name!r}: --shots does not apply to a sequence-classifier checkpoint")
        inputs = [tuple(ex.inputs.values()) for ex in examples]
        scores = engine.classify(inputs, plan.spec.labels, progress=advance, verbalizers=plan.spec.verbalizers)
        if engine.is_regression:
            return [{"value": float(s[0]), "pred": float(s[0])} for s in scores]
        return [{"scores": list(map(float, s)), "pred": int(np.argmax(s))} for s in scores]
    if plan.spec.type == "classification":
        conts = tuple(target_text(plan.spec, plan.template, lab, plan.format) for lab in plan.spec.labels)
        scores = engine.loglikelihood([ScoreRequest(c, conts) for c in _contexts(plan, examples)], progress=advance)
        return [{"logliks": s, "pred": int(np.argmax(s))} for s in scores]
    gen = plan.spec.generation_config()
    stop = list(gen.stop) + (plan.format.stops if plan.format is not None else [])
    texts = engine.generate(_contexts(plan, examples), stop=stop, max_new_tokens=gen.max_new_tokens, progress=advance)
    return [{"text": t, "pred": extract_answer(plan.spec, t)} for t in texts]


def _contexts(plan: TaskPlan, examples: Sequence[Example]) -> list[str]:
    return [build_context(plan.spec, plan.template, ex, plan.shots, plan.format) for ex in examples]


def predictions(records: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The prediction of each record: a label index (classification) or the extracted answer."""
    return [r["pred"] for r in records]
