"""The compare pipeline (`dabench.compare`): evaluate a base and an adapted model on the same examples and test Δ.

Data flows one way: task specs → plans (examples, shots, templates) → per-example records
from each model (through the store, so nothing is computed twice) → pairing on example id →
paired statistics per task → multiplicity correction → a :class:`Comparison`.
All data is read and validated before any model is loaded, so a bad input fails in a
second, not after an hour of inference.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, TaskResult, created_now
from dabench.data import resolve_data_dir
from dabench.engines import Engine, load_engine, resolve_options
from dabench.engines.checkpoints import fingerprint as checkpoint_fingerprint, preflight, resolve_against_base, shares_base
from dabench.errors import CheckpointError, DataError, PairingError, TaskError
from dabench.metrics import task_metric
from dabench.metrics.classification import MISSING
from dabench.metrics.inputs import applicable, count_missing, metric_inputs
from dabench.progress import Progress, progress_context
from dabench.registry import get_registry
from dabench.runner import TaskPlan, plan_task, predictions, run_plan
from dabench.stats import paired_test
from dabench.store import Store
from dabench.taskspec import TaskSpec
from dabench.verdicts import apply_verdicts, check_stats_options

#: disagreement examples kept per task in the comparison
DISAGREEMENTS_KEPT = 5


class _ModelHandle:
    """A checkpoint whose engine is loaded on first use and released when done.

    A PEFT adapter and its own base share one load (``_SharedLoad``): the base side runs on
    the adapter's engine with the adapter switched off, so the base weights load once.
    """

    def __init__(self, checkpoint: str, engine: str, options: Mapping[str, Any], *,
                 resolved: Any = None, shared: "_SharedLoad | None" = None, role: str = "own") -> None:
        self.checkpoint = checkpoint
        self.kind = engine
        self.options = dict(options)
        self.resolved = resolved or resolve_options(checkpoint, self.options)
        self.location = self.resolved.location
        self._shared = shared
        self._role = role
        self._engine: Engine | None = None
        self.loaded = False
        self._fp: str | None = None

    def fingerprint(self) -> str:
        if self._fp is None:
            try:
                self._fp = checkpoint_fingerprint(self.resolved, download=False)
            except CheckpointError:  # a hub model not in the local cache: loading fetches it
                self._fp = self.get().fingerprint()
        return self._fp

    def get(self) -> Engine:
        if self._engine is None:
            if self._shared is not None:
                adapter = self._shared.get()
                self._engine = adapter.base_view(self.checkpoint) if self._role == "base" else adapter
            else:
                self._engine = load_engine(self.kind, self.checkpoint, resolved=self.resolved, **self.options)
            self.loaded = True
        return self._engine

    def release(self) -> None:
        self._engine = None
        if self._shared is not None:
            self._shared.release()
        gc.collect()

    def info(self) -> ModelInfo:
        return ModelInfo(name=Path(self.checkpoint).name or self.checkpoint, path=str(self.location), fingerprint=self.fingerprint())


class _SharedLoad:
    """One adapter engine serving two handles; freed when both are released."""

    def __init__(self, adapted: str, engine: str, options: Mapping[str, Any], resolved: Any) -> None:
        self.args = (engine, adapted)
        self.options = dict(options, resolved=resolved)
        self.engine: Engine | None = None
        self.users = 2

    def get(self) -> Engine:
        if self.engine is None:
            self.engine = load_engine(*self.args, **self.options)
        return self.engine

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.engine = None


def _make_handles(base: str, adapted: str, engine: str, options: Mapping[str, Any]) -> tuple[_ModelHandle, _ModelHandle]:
    """Handles of both sides; an adapter on the base's own weights shares the base's load."""
    base_h = _ModelHandle(base, engine, options)
    adapted_ck = resolve_against_base(adapted, base_h.resolved, arch=options.get("arch"),
                                      adapter_base=options.get("adapter_base"), prefix=options.get("ckpt_prefix"))
    for ck in (base_h.resolved, adapted_ck):  # a broken tokenizer or truncated weights fail now, not after hours
        preflight(ck, trust_remote_code=bool(options.get("trust_remote_code")))
    if shares_base(adapted_ck, base_h.resolved):
        shared = _SharedLoad(adapted, engine, options, adapted_ck)
        return (_ModelHandle(base, engine, options, resolved=base_h.resolved, shared=shared, role="base"),
                _ModelHandle(adapted, engine, options, resolved=adapted_ck, shared=shared, role="adapter"))
    return base_h, _ModelHandle(adapted, engine, options, resolved=adapted_ck)


@dataclass
class _Side:
    plans: dict[str, TaskPlan]
    records: dict[str, list[dict[str, Any]]]
    selection: dict[str, dict[str, float]]


def compare(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    data_dir: str | os.PathLike | None = None,
    data_files: Mapping[str, Mapping[str, str]] | None = None,
    limit: int | None = None,
    shots: int = 0,
    seed: int = 0,
    resamples: int = 10_000,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    domain: str | None = None,
    select_prompt: bool = False,
    select_limit: int | None = 200,
    store_path: str | os.PathLike | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    tasks_dirs: Sequence[str | os.PathLike] = (),
    progress: bool | Progress = True,
    lmeval_include_path: Sequence[str | os.PathLike] = (),
    regime: str = "prompt",
    **training: Any,
) -> Comparison:
    """Compare ``adapted`` against ``base`` on ``tasks`` (task or suite names).

    Returns a :class:`Comparison` with, per task, both scores, Δ = adapted − base, its paired
    bootstrap CI, a paired permutation p-value, the p-value adjusted across tasks
    (``correction``: ``holm`` or ``bh``) and a win/tie/loss verdict at level ``alpha``.

    ``regime``: ``prompt`` (default) scores the checkpoints as they are; ``finetune``,
    ``probe`` and ``intrinsic`` train or probe both backbones per task, or score held-out
    text (:func:`dabench.regimes.compare_regime`, docs/regimes.md). The training keywords
    (``seeds``, ``preset``, ``lr``, ``batch_size``, ``epochs``, ``patience``, ``max_length``,
    ``train_limit``, ``dev_limit``, ``pooling``, ``hyperparameters``) apply to those regimes only.

    ``tasks`` may mix task types: intrinsic tasks (``chemprot_text_ppl``, suite ``intrinsic``)
    and lm-eval tasks (``lmeval:<name>``, extra task YAMLs from ``lmeval_include_path``) run
    through their own pipelines next to the prompted ones, and all p-values are adjusted together.
    """
    if regime != "prompt" or training:
        return _compare_regime(base, adapted, tasks, regime, training, shots=shots, select_prompt=select_prompt,
                               engine=engine, data_dir=data_dir, data_files=data_files, limit=limit, seed=seed,
                               resamples=resamples, alpha=alpha, margin=margin, correction=correction, domain=domain,
                               store_path=store_path, engine_options=engine_options, tasks_dirs=tasks_dirs,
                               progress=progress, lmeval_include_path=lmeval_include_path)
    check_stats_options(alpha, correction)
    registry = get_registry([Path(d) for d in tasks_dirs])
    from dabench.intrinsic.spec import intrinsic_names

    intrinsic = intrinsic_names(tasks, registry, tasks_dirs)
    lmeval_tasks = [t.strip() for t in tasks if t.strip().startswith("lmeval:")]
    if intrinsic or lmeval_tasks:  # other task types, each scored by its own pipeline, then one family
        from dabench.combine import compare_mixed

        return compare_mixed(
            base, adapted, tasks, intrinsic=intrinsic, lmeval_tasks=lmeval_tasks, lmeval_include_path=lmeval_include_path,
            shots=shots, select_prompt=select_prompt, select_limit=select_limit, engine=engine, data_dir=data_dir,
            data_files=data_files, limit=limit, seed=seed, resamples=resamples, alpha=alpha, margin=margin,
            correction=correction, domain=domain, store_path=store_path, engine_options=engine_options,
            tasks_dirs=tasks_dirs, progress=progress)
    specs = registry.resolve(tasks)
    root = resolve_data_dir(data_dir)
    data_files = data_files or {}
    base_h, adapted_h = _make_handles(base, adapted, engine, engine_options or {})

    # read and validate every task's data before any model is loaded
    eval_plans = {
        s.name: plan_task(s, root, shots=shots, seed=seed, limit=limit, overrides=data_files.get(s.name))
        for s in specs
    }
    val_plans: dict[str, list[TaskPlan]] = {}
    if select_prompt:
        for s in specs:
            if len(s.templates) > 1:
                if not s.validation_split or s.validation_split == s.eval_split:
                    raise TaskError(
                        f"task {s.name!r} has no validation split separate from its evaluation split; "
                        "--select-prompt never chooses on the test data"
                    )
                val_plans[s.name] = [
                    plan_task(s, root, split=s.validation_split, shots=shots, seed=seed, limit=select_limit,
                              template_id=t.id, overrides=data_files.get(s.name))
                    for t in s.templates
                ]

    with progress_context(progress) as prog:
        store = Store(store_path)
        try:
            sides = {}
            for role, handle in (("base", base_h), ("adapted", adapted_h)):
                sides[role] = _evaluate_side(handle, role, specs, eval_plans, val_plans, store, prog, root, data_files, shots, seed, limit)
                handle.release()
        finally:
            store.close()

    tested = [_task_result(s, sides["base"], sides["adapted"], domain, resamples, seed, alpha) for s in specs]
    results = apply_verdicts(tested, correction=correction, alpha=alpha, margin=margin)

    base_info, adapted_info = base_h.info(), adapted_h.info()
    config = {
        "tasks": [s.name for s in specs],
        "data_dir": str(root) if root else None,
        "limit": limit,
        "shots": shots,
        "seed": seed,
        "resamples": resamples,
        "alpha": alpha,
        "margin": margin,
        "correction": correction,
        "domain": domain,
        "select_prompt": select_prompt,
        "engine": engine,
        "regime": "prompt",
    }
    signature = {
        "dabench_version": __version__,
        "task_hashes": {s.name: s.spec_hash() for s in specs},
        "data_hashes": {s.name: eval_plans[s.name].data_hash for s in specs},
        "fingerprints": {"base": base_info.fingerprint, "adapted": adapted_info.fingerprint},
        "seed": seed,
        "resamples": resamples,
        "alpha": alpha,
        "correction": correction,
        "templates": {r.task: r.templates for r in results},
        "shots": {s.name: [x.id for x in eval_plans[s.name].shots] for s in specs},
    }
    return Comparison(
        base=base_info,
        adapted=adapted_info,
        config=config,
        tasks=results,
        signature=signature,
        dabench_version=__version__,
        created=created_now(),
    )


#: keywords of ``compare`` that only the training regimes take
TRAINING_OPTIONS = ("seeds", "preset", "lr", "batch_size", "epochs", "patience", "max_length", "train_limit",
                    "dev_limit", "pooling", "hyperparameters")
REGIMES = ("prompt", "finetune", "probe", "intrinsic")


def _compare_regime(base: str, adapted: str, tasks: Sequence[str], regime: str, training: Mapping[str, Any], *,
                    shots: int, select_prompt: bool, engine: str, lmeval_include_path: Sequence[Any] = (),
                    **options: Any) -> Comparison:
    """``compare`` under a fine-tune / probe / intrinsic regime; options that mean nothing there are refused."""
    if regime not in REGIMES:
        raise TaskError(f"regime must be one of {', '.join(REGIMES)}, not {regime!r}")
    unknown = sorted(set(training) - set(TRAINING_OPTIONS))
    if unknown:
        raise TypeError(f"compare() got an unexpected keyword argument {unknown[0]!r}")
    given = [k for k, v in training.items() if v is not None]
    if regime == "prompt":
        if given:
            raise TaskError(f"{given[0]} (--{given[0].replace('_', '-')}) applies to the finetune/probe regimes, "
                            "not to prompting")
        return compare(base, adapted, tasks, shots=shots, select_prompt=select_prompt, engine=engine,
                       lmeval_include_path=lmeval_include_path, **options)
    if lmeval_include_path or any(t.strip().startswith("lmeval:") for t in tasks):
        raise TaskError(f"lm-eval tasks are prompted; they do not run under regime {regime!r}")
    for name, value, unused in (("shots", shots, 0), ("select_prompt", select_prompt, False)):
        if value != unused:
            raise TaskError(f"{name} (--{name.replace('_', '-')}) applies to prompting, not to regime {regime!r}")
    if engine != "hf":
        raise TaskError(f"regime {regime!r} trains and scores with the hf engine; engine {engine!r} is for prompting")
    from dabench.regimes import compare_regime

    return compare_regime(base, adapted, list(tasks), regime=regime, **options,
                          **{k: v for k, v in training.items() if v is not None})


def _evaluate_side(
    handle: _ModelHandle,
    role: str,
    specs: Sequence[TaskSpec],
    eval_plans: dict[str, TaskPlan],
    val_plans: dict[str, list[TaskPlan]],
    store: Store,
    prog: Progress,
    root: Path | None,
    data_files: Mapping[str, Mapping[str, str]],
    shots: int,
    seed: int,
    limit: int | None,
) -> _Side:
    fp = handle.fingerprint()
    plans: dict[str, TaskPlan] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    selection: dict[str, dict[str, float]] = {}
    for s in specs:
        plan = eval_plans[s.name]
        if s.name in val_plans:
            scores = {}
            for vp in val_plans[s.name]:
                recs = run_plan(handle.get, fp, vp, store, progress=prog, label=f"{role} · select {vp.template_id}")
                scores[vp.template_id] = _score(s, vp.examples, predictions(recs))
            best = max(scores, key=lambda t: (scores[t], -[x.id for x in s.templates].index(t)))
            selection[s.name] = scores
            plan = TaskPlan(plan.spec, plan.split, plan.examples, plan.shots, best, plan.data_hash, plan.seed, plan.shot_source)
        plans[s.name] = plan
        records[s.name] = run_plan(handle.get, fp, plan, store, progress=prog, label=role)
    return _Side(plans, records, selection)


def _task_result(
    spec: TaskSpec, base: _Side, adapted: _Side, domain: str | None, resamples: int, seed: int, alpha: float
) -> tuple[TaskResult, Any]:
    """The task's result (p_adjusted and verdict filled in later) and its PairedResult."""
    bp, ap = base.plans[spec.name], adapted.plans[spec.name]
    ids_b = [ex.id for ex in bp.examples]
    ids_a = [ex.id for ex in ap.examples]
    if ids_b != ids_a:
        raise PairingError(f"task {spec.name!r}: the two runs evaluated different example ids; they cannot be paired")
    pred_b = predictions(base.records[spec.name])
    pred_a = predictions(adapted.records[spec.name])
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
    selection = None
    if spec.name in base.selection:
        selection = {"split": spec.validation_split, "base": base.selection[spec.name], "adapted": adapted.selection[spec.name]}
    result = TaskResult.from_paired(
        res, task=spec.name, category=spec.category_for(domain), metric=spec.metric, n=len(ids_b),
        secondary=secondary, templates={"base": bp.template_id, "adapted": ap.template_id},
        prompt_selection=selection, disagreements=_disagreements(spec, bp, pred_b, pred_a),
        notes=missing_notes(metric, {"base": pred_b, "adapted": pred_a}),
    )
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
    notes = []
    for role, p in preds.items():
        n = count_missing(metric, p)
        if n:
            notes.append(f"{role}: {n} missing prediction{'s' if n != 1 else ''} scored as wrong")
    return notes


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


def _disagreements(spec: TaskSpec, plan: TaskPlan, pred_b: Sequence[Any], pred_a: Sequence[Any]) -> list[dict[str, str]]:
    out = []
    for i, (b, a) in enumerate(zip(pred_b, pred_a)):
        if b == a:
            continue
        ex = plan.examples[i]
        out.append({
            "id": ex.id,
            "input": " | ".join(ex.inputs.values()),
            "reference": _shown(spec, ex.label) if ex.label is not None else " | ".join(ex.answers),
            "base_prediction": _shown(spec, b),
            "adapted_prediction": _shown(spec, a),
        })
        if len(out) == DISAGREEMENTS_KEPT:
            break
    return out
