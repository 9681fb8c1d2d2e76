"""The prompt kind: registry tasks scored by prompting both checkpoints as they are.

Task specs → plans (examples, shots, templates; read and validated before any model loads) →
per-example records from each model through the store → pairing on example id → a paired test
per task. :class:`PromptPlan` is this kind's :class:`~dabench.orchestrator.KindPlan`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Iterator, Mapping, Sequence

from dabench.chat import ChatSettings
from dabench.comparison import DISAGREEMENTS_KEPT, ModelInfo, TaskResult
from dabench.example_rows import disagreements, example_row
from dabench.data import resolve_data_dir
from dabench.errors import DataError, PairingError, TaskError
from dabench.handles import ModelHandle
from dabench.metrics import task_metric
from dabench.metrics.classification import MISSING
from dabench.metrics.inputs import applicable, count_missing, metric_inputs
from dabench.orchestrator import spec_config, spec_signature
from dabench.runner import TaskPlan, plan_run, plan_task, predictions
from dabench.stats import paired_test
from dabench.work import Run
from dabench.taskspec import TaskSpec


@dataclass
class _Side:
    plans: dict[str, TaskPlan]
    records: dict[str, list[dict[str, Any]]]
    selection: dict[str, dict[str, float]]


class PromptPlan:
    """The prompted registry tasks of a comparison: every split read and checked up front
    (evaluation split, few-shot pool, validation splits for prompt selection), then one side at
    a time through the store, then a paired test per task."""

    kind = "prompt"

    def __init__(self, specs: Sequence[TaskSpec], *, data_dir: str | os.PathLike[str] | None,
                 data_files: Mapping[str, Mapping[str, str]] | None, limit: int | None, shots: int, seed: int,
                 resamples: int, alpha: float, margin: float | None, correction: str, domain: str | None,
                 select_prompt: bool, select_limit: int | None, engine: str,
                 shots_split: str | None = None, chat: ChatSettings | None = None) -> None:
        self.specs = list(specs)
        self.root = resolve_data_dir(data_dir)
        self.data_files = dict(data_files or {})
        self.limit, self.shots, self.seed, self.shots_split = limit, shots, seed, shots_split
        self.resamples, self.alpha, self.margin, self.correction = resamples, alpha, margin, correction
        self.domain, self.select_prompt, self.engine = domain, select_prompt, engine
        self.chat = chat or ChatSettings()
        self.chat_template_text = self.chat.template_text()
        self.eval_plans = {s.name: plan_task(s, self.root, shots=shots, shots_split=shots_split, seed=seed, limit=limit,
                                             overrides=self.data_files.get(s.name)) for s in self.specs}
        self.val_plans: dict[str, list[TaskPlan]] = {}
        # a chat format is a candidate too
        for s in [s for s in self.specs if select_prompt and (len(s.templates) > 1 or self.chat.mode != "off")]:
            if not s.validation_split or s.validation_split == s.eval_split:
                raise TaskError(f"task {s.name!r} has no validation split separate from its evaluation split, and "
                                "--select-prompt never chooses on the test data: drop --select-prompt (or compare "
                                f"{s.name!r} in a run of its own without it), or give the task a validation split in a "
                                "spec of your own (--tasks-dir)")
            self.val_plans[s.name] = [plan_task(s, self.root, split=s.validation_split, shots=shots,
                                                shots_split=shots_split, seed=seed, limit=select_limit,
                                                template_id=t.id, overrides=self.data_files.get(s.name))
                                      for t in s.templates]
        self.sides: dict[str, _Side] = {}

    def side(self, role: str, handle: ModelHandle) -> Iterator[list[Run]]:
        """Stage 1 (with ``--select-prompt``): every candidate (template × format) on the
        validation split; stage 2: the evaluation split with the candidate this side chose."""
        selection: dict[str, dict[str, float]] = {}
        fmt = (self.chat.format_for(handle.tokenizer_source(), self.chat_template_text)
               if self.chat.mode != "off" else None)
        formats = [None, fmt] if self.select_prompt and fmt is not None else [fmt]
        chosen: dict[str, TaskPlan] = {}
        candidates = {name: [replace(vp, format=f) for vp in vps for f in formats]
                      for name, vps in self.val_plans.items()}
        candidates = {name: c for name, c in candidates.items() if len(c) > 1}
        if candidates:
            runs = {name: [plan_run(c, f"{role} · select {c.prompt_label}") for c in cs]
                    for name, cs in candidates.items()}
            yield [r for rs in runs.values() for r in rs]
            for s in self.specs:
                if s.name in runs:
                    scores = {c.prompt_label: _score(s, c.examples, predictions(r.ordered()))
                              for c, r in zip(candidates[s.name], runs[s.name])}
                    selection[s.name] = scores
                    # the best score; ties go to the earlier candidate (the task's first template, plain first)
                    best = max(range(len(scores)), key=lambda i: (scores[candidates[s.name][i].prompt_label], -i))
                    chosen[s.name] = candidates[s.name][best]
        plans = {s.name: replace(self.eval_plans[s.name], template_id=chosen[s.name].template_id,
                                 format=chosen[s.name].format) if s.name in chosen
                 else replace(self.eval_plans[s.name], format=fmt) for s in self.specs}
        runs_eval = {name: plan_run(plan, role) for name, plan in plans.items()}
        yield list(runs_eval.values())
        self.sides[role] = _Side(plans, {n: r.ordered() for n, r in runs_eval.items()}, selection)

    def test(self) -> list[tuple[TaskResult, Any]]:
        return [_task_result(s, self.sides["base"], self.sides["adapted"], self.domain, self.resamples, self.seed,
                             self.alpha) for s in self.specs]

    def config(self, results: Sequence[TaskResult]) -> dict[str, Any]:
        return {
            **spec_config(self, shots=self.shots),
            "select_prompt": self.select_prompt,
            "engine": self.engine,
            "regime": "prompt",
            # where the shots came from, only when there are shots
            **({"shots_split": self.shots_split} if self.shots_split else {}),
            **({"shot_source": sources} if (sources := self.shot_sources()) else {}),
        }

    def signature(self, results: Sequence[TaskResult], infos: dict[str, ModelInfo]) -> dict[str, Any]:
        return {
            **spec_signature(self, {s.name: self.eval_plans[s.name].data_hash for s in self.specs}, infos),
            "templates": {r.task: r.templates for r in results},
            **self._formats(),
            "shots": {s.name: [x.id for x in self.eval_plans[s.name].shots] for s in self.specs},
            **({"shot_source": self.shot_sources()} if self.shots else {}),
        }

    def _formats(self) -> dict[str, Any]:
        """Each model's prompt format per task (its id, template source and hash, system prompt), in chat runs only."""
        if self.chat.mode == "off":
            return {}
        described = {role: {name: p.format.describe() if p.format is not None else {"format": "plain"}
                            for name, p in self.sides[role].plans.items()} for role in ("base", "adapted")}
        return {"formats": {s.name: {role: described[role][s.name] for role in described} for s in self.specs}}

    def shot_sources(self) -> dict[str, str]:
        """Per task with shots, the split they were drawn from (the few-shot split, or ``--shots-split``'s)."""
        return {name: plan.shot_split for name, plan in self.eval_plans.items() if plan.shot_split}


def _task_result(
    spec: TaskSpec, base: _Side, adapted: _Side, domain: str | None, resamples: int, seed: int, alpha: float
) -> tuple[TaskResult, Any]:
    """The task's result (p_adjusted and verdict filled in later) and its PairedResult."""
    bp, ap = base.plans[spec.name], adapted.plans[spec.name]
    if [ex.id for ex in bp.examples] != [ex.id for ex in ap.examples]:
        raise PairingError(f"task {spec.name!r}: the two runs evaluated different example ids; they cannot be paired")
    pred_b, pred_a = (predictions(side.records[spec.name]) for side in (base, adapted))
    metric = task_metric(spec, spec.metric)
    stats_b = _side_stats("base", spec, metric, bp.examples, pred_b)
    stats_a = _side_stats("adapted", spec, metric, bp.examples, pred_a)
    clusters = [ex.cluster for ex in bp.examples] if spec.cluster_field else None
    res = paired_test(metric, stats_b, stats_a, clusters=clusters, resamples=resamples, seed=seed, alpha=alpha)
    secondary = {}
    for name in spec.secondary_metrics:
        m = task_metric(spec, name)
        if applicable(m, pred_b) or applicable(m, pred_a):
            continue  # e.g. provenance metrics when the model outputs answers only
        sb, sa = (_score(spec, bp.examples, p, m) for p in (pred_b, pred_a))
        secondary[name] = {"base": sb, "adapted": sa, "delta": sa - sb}
    selection = ({"split": spec.validation_split, "base": base.selection[spec.name],
                  "adapted": adapted.selection[spec.name]} if spec.name in base.selection else None)
    result = TaskResult.from_paired(
        res, task=spec.name, category=spec.category_for(domain), metric=spec.metric, n=len(bp.examples),
        secondary=secondary, templates={"base": bp.prompt_label, "adapted": ap.prompt_label},
        prompt_selection=selection, notes=missing_notes(metric, {"base": pred_b, "adapted": pred_a}),
    )
    result.examples = _rows(spec, bp, pred_b, pred_a, _per_example(spec, metric, bp, pred_b, stats_b),
                            _per_example(spec, metric, bp, pred_a, stats_a))
    result.disagreements = disagreements(result.examples, [b != a for b, a in zip(pred_b, pred_a)], DISAGREEMENTS_KEPT)
    return result, res


def _side_stats(role: str, spec: TaskSpec, metric: Any, examples: Sequence[Any], preds: Sequence[Any]) -> Any:
    """One model's per-example statistics; an input error names the model."""
    try:
        return metric.stats(*metric_inputs(spec, metric, examples, preds))
    except DataError as exc:
        raise DataError(f"{role} model: {exc}") from None


def missing_notes(metric: Any, preds: Mapping[str, Sequence[Any]]) -> list[str]:
    """A note per model whose predictions the headline metric scored as missing (no answer,
    or none that could be extracted: always wrong, never a class)."""
    counts = {role: count_missing(metric, p) for role, p in preds.items()}
    return [f"{role}: {n} missing prediction{'s' if n != 1 else ''} scored as wrong" for role, n in counts.items() if n]


def _score(spec: TaskSpec, examples: Sequence[Any], preds: Sequence[Any], metric: Any = None) -> float:
    """One metric (default: the headline) of predictions on examples."""
    metric = metric or task_metric(spec, spec.metric)
    return float(metric.score(*metric_inputs(spec, metric, examples, preds)))


def _shown(spec: TaskSpec, value: Any) -> str:
    """A prediction or label as a reader should see it (the verbaliser for a label)."""
    if value is None or (spec.type == "classification" and value == MISSING):
        return "(no prediction)"
    if spec.type == "classification":
        label = spec.labels[value] if isinstance(value, int) else str(value)
        return spec.verbalizers.get(label, label)
    return str(value)


def _per_example(spec: TaskSpec, metric: Any, plan: TaskPlan, preds: Sequence[Any], stats: Any
                 ) -> list[float | None]:
    """Each example's value under the headline metric; for a classification metric without one
    (macro-F1), whether the answer is right."""
    values = metric.per_example(stats)
    if values is not None:
        return [float(v) for v in values]
    if spec.type == "classification":
        return [float(p == r) for p, r in zip(preds, plan.references())]
    return [None] * len(plan.examples)


def _rows(spec: TaskSpec, bp: TaskPlan, pred_b: Sequence[Any], pred_a: Sequence[Any],
          score_b: Sequence[float | None], score_a: Sequence[float | None]) -> list[dict[str, Any]]:
    """Every example's row: input, the prompt the base saw, reference, both answers and scores."""
    prompts = bp.contexts()
    return [example_row(ex.id, " | ".join(ex.inputs.values()),
                        _shown(spec, ex.label) if ex.label is not None else " | ".join(ex.answers),
                        _shown(spec, pred_b[i]), _shown(spec, pred_a[i]), base_score=score_b[i],
                        adapted_score=score_a[i], prompt=prompts[i])
            for i, ex in enumerate(bp.examples)]
