"""``dabench.compare``: evaluate a base and an adapted model on the same examples and test Δ.

The tasks are split among the kinds that claim them (registry tasks: :class:`~dabench.prompting.PromptPlan`,
intrinsic: :class:`~dabench.intrinsic.compare.IntrinsicPlan`, ``lmeval:``:
:class:`~dabench.lmeval.compare.LmevalPlan`; the fine-tune, probe and intrinsic regimes are one plan
each). Every kind reads and checks all its data before any model loads, so a bad input fails in a
second; :func:`dabench.orchestrator.run_plans` then runs them with one correction over every task.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from dabench.chat import ChatSettings
from dabench.comparison import Comparison
from dabench.errors import TaskError
from dabench.handles import ModelHandle, make_handles
from dabench.options import TRAINING, RunOptions, all_fields
from dabench.executors import Executor
from dabench.orchestrator import KindPlan, run_plans
from dabench.progress import Progress
from dabench.prompting import PromptPlan
from dabench.registry import get_registry


def compare(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    data_dir: str | os.PathLike | None = None,
    data_files: Mapping[str, Mapping[str, str]] | None = None,
    limit: int | None = None,
    shots: int = 0,
    shots_split: str | None = None,
    seed: int = 0,
    resamples: int = 10_000,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    domain: str | None = None,
    select_prompt: bool = False,
    select_limit: int | None = 200,
    chat_template: str = "off",
    system_prompt: str | None = None,
    fewshot_as_multiturn: bool = False,
    store_path: str | os.PathLike | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    tasks_dirs: Sequence[str | os.PathLike] = (),
    progress: bool | Progress = True,
    lmeval_include_path: Sequence[str | os.PathLike] = (),
    regime: str = "prompt",
    executor: Executor | str | None = None,
    shard: tuple[int, int] | None = None,
    **training: Any,
) -> Comparison:
    """Compare ``adapted`` against ``base`` on ``tasks`` (task or suite names).

    Returns a :class:`Comparison` with, per task, both scores, Δ = adapted − base, its paired
    bootstrap CI, a paired permutation p-value, the p-value adjusted across tasks
    (``correction``: ``holm`` or ``bh``) and a win/tie/loss verdict at level ``alpha``.

    ``regime``: ``prompt`` (default) scores the checkpoints as they are; ``finetune``,
    ``probe`` and ``intrinsic`` train or probe both backbones per task, or score held-out
    text (docs/regimes.md). The training keywords
    (``seeds``, ``preset``, ``lr``, ``batch_size``, ``epochs``, ``patience``, ``max_length``,
    ``train_limit``, ``dev_limit``, ``pooling``, ``hyperparameters``) apply to those regimes only.

    ``tasks`` may mix task types: intrinsic tasks (``chemprot_text_ppl``, suite ``intrinsic``)
    and lm-eval tasks (``lmeval:<name>``, extra task YAMLs from ``lmeval_include_path``) run
    through their own pipelines next to the prompted ones, and all p-values are adjusted together.

    ``shots`` examples per prompt come from each task's few-shot split; a task whose few-shot
    file is missing is refused unless ``shots_split`` names the split to draw them from (the
    evaluated examples are then left out of the pool).

    ``chat_template`` (``off``, ``auto`` or a Jinja file's path), ``system_prompt`` and
    ``fewshot_as_multiturn`` render prompts in each model's chat format (:mod:`dabench.chat`).

    ``executor`` runs the work units (:mod:`dabench.executors`): an executor, or a name
    (``local``, the default, or ``ray``). ``shard=(i, n)`` computes only batch shard ``i`` of
    ``n`` into the store and raises :class:`~dabench.orchestrator.ShardComputed` unless the
    store then holds every record (docs/distributed.md).
    """
    if isinstance(executor, str):
        from dabench.executors import make_executor

        executor = make_executor(executor)
    unknown = sorted(set(training) - {*TRAINING, "hyperparameters"})
    if unknown:
        raise TypeError(f"compare() got an unexpected keyword argument {unknown[0]!r}")
    # the keywords are checked by the declarations of every command's flags (RunOptions.layered): values in range,
    # and no option set for a regime it does not apply to
    fields = all_fields()
    stats: dict[str, Any] = dict(seed=seed, resamples=resamples, alpha=alpha, margin=margin, correction=correction)
    given: dict[str, Any] = {"regime": regime, "engine": engine, **stats, "limit": limit, "shots": shots or None,
                             "shots_split": shots_split, "select_prompt": select_prompt or None}
    chat_kw = dict(chat_template=chat_template, system_prompt=system_prompt, fewshot_as_multiturn=fewshot_as_multiturn)
    given.update({k: v for k, v in chat_kw.items() if v not in (None, False, "off")})
    for extra in (engine_options or {}, training):
        given.update({k: v for k, v in extra.items() if k in fields and v is not None})
    if given.get("dtype") == "auto":
        del given["dtype"]
    given.update(data_dir=data_dir, domain=domain, tasks_dir=[os.fspath(d) for d in tasks_dirs] or None,
                 lmeval_include_path=[os.fspath(p) for p in lmeval_include_path] or None,
                 data_file=[f"{task}:{split}={os.fspath(path)}" for task, splits in (data_files or {}).items()
                            for split, path in splits.items()] or None)
    options = RunOptions.layered({k: v for k, v in given.items() if v is not None})
    names = [t.strip() for t in tasks if t.strip()]
    training = {k: v for k, v in training.items() if v is not None}
    data: dict[str, Any] = dict(data_dir=data_dir, data_files=data_files, limit=limit, domain=domain,
                                tasks_dirs=tasks_dirs)
    if regime == "prompt":
        if training:
            name = next(iter(training))
            raise TaskError(f"{name} (--{name.replace('_', '-')}) applies to the finetune/probe regimes, "
                            "not to prompting")
        chat = ChatSettings(chat_template, system_prompt, fewshot_as_multiturn)
        handles, plans = _prompted_plans(base, adapted, names, engine, engine_options or {}, chat, stats, data,
                                         shots=shots, shots_split=shots_split, select_prompt=select_prompt,
                                         select_limit=select_limit, lmeval_include_path=lmeval_include_path)
    else:
        if lmeval_include_path or any(t.startswith("lmeval:") for t in names):
            raise TaskError(f"lm-eval tasks are prompted; they do not run under regime {regime!r}")
        handles = make_handles(base, adapted, "hf", engine_options or {})
        plans = [_regime_plan(regime, names, handles, training, stats, data)]
    comparison = run_plans(handles, plans, store_path=store_path, progress=progress, correction=correction,
                           alpha=alpha, margin=margin, executor=executor, shard=shard)
    comparison.config.setdefault("options", options.recorded())  # what a gate replays (RunOptions.layered)
    return comparison


def run_comparison(base: str, adapted: str, tasks: Sequence[str], options: RunOptions, *,
                   progress: Any = True) -> Comparison:
    """:func:`compare` under declared :class:`~dabench.options.RunOptions`: the one path from
    options to a comparison, taken by every command that runs models and by gate replay."""
    return compare(base, adapted, list(tasks), progress=progress, **options.compare_kwargs(tasks))


def _prompted_plans(base: str, adapted: str, names: list[str], engine: str, engine_options: Mapping[str, Any],
                    chat: ChatSettings, stats: dict[str, Any], data: dict[str, Any], *, shots: int,
                    shots_split: str | None, select_prompt: bool, select_limit: int | None,
                    lmeval_include_path: Sequence[Any]) -> tuple[tuple[ModelHandle, ModelHandle], list[KindPlan]]:
    """The prompt regime: the registry's prompted tasks, ``lmeval:`` tasks and intrinsic tasks,
    each kind planned (its data read and checked) before any model loads."""
    tasks_dirs = data.pop("tasks_dirs")
    registry = get_registry([Path(d) for d in tasks_dirs])
    from dabench.intrinsic.spec import intrinsic_names

    intrinsic = intrinsic_names(names, registry, tasks_dirs)
    lmeval_tasks = [t for t in names if t.startswith("lmeval:")]
    native = [t for t in names if t not in intrinsic and t not in lmeval_tasks]
    if lmeval_tasks and chat.mode != "off":
        raise TaskError("--chat-template applies to registry tasks; lm-eval tasks are prompted as lm-eval formats "
                        "them: compare them in a run of their own without --chat-template")
    if intrinsic and engine != "hf" and (native or lmeval_tasks):
        raise TaskError(f"intrinsic tasks ({', '.join(intrinsic)}) are scored with the hf engine; compare them "
                        f"in a run of their own, apart from the prompted tasks of engine {engine!r}")
    plans: list[KindPlan] = []
    if native:
        plans.append(PromptPlan(registry.resolve(native), **data, shots=shots, shots_split=shots_split,
                                select_prompt=select_prompt, select_limit=select_limit, engine=engine, chat=chat,
                                **stats))
    if lmeval_tasks:
        from dabench.lmeval.compare import LmevalPlan

        plans.append(LmevalPlan(lmeval_tasks, include_path=list(lmeval_include_path), limit=data["limit"],
                                shots=shots or None, engine=engine, include_key="lmeval_include_path", **stats))
    handles = make_handles(base, adapted, engine if not intrinsic or native or lmeval_tasks else "hf", engine_options)
    if intrinsic:
        from dabench.intrinsic.compare import IntrinsicPlan

        plans.append(IntrinsicPlan(intrinsic, handles, **data, tasks_dirs=tasks_dirs, **stats))
    return handles, plans


def _regime_plan(regime: str, names: list[str], handles: tuple[ModelHandle, ModelHandle], training: dict[str, Any],
                 stats: dict[str, Any], data: dict[str, Any]) -> KindPlan:
    """The one plan of the intrinsic, fine-tune or probe regime."""
    if regime == "intrinsic":
        from dabench.intrinsic.compare import IntrinsicPlan

        other = [k for k in training if k != "max_length"]
        if other:
            raise TaskError(f"{other[0]} (--{other[0].replace('_', '-')}) applies to the finetune/probe regimes; "
                            "regime intrinsic trains nothing (only max_length applies)")
        return IntrinsicPlan(names, handles, **data, max_length=training.get("max_length"), **stats)
    from dabench.regimes.compare import RegimePlan

    return RegimePlan(names, handles, regime=regime, **data, seeds=training.pop("seeds", None),
                      preset=training.pop("preset", None), hyperparameters=training.pop("hyperparameters", None),
                      named=training, **stats)
