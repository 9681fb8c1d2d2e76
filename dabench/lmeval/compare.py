"""Head-to-head comparisons on lm-eval tasks.

- :func:`compare_from_lmeval`: two existing lm-eval output folders (``--log_samples``),
  paired on (task, doc_id, filter) — nothing is re-run.
- :func:`compare_lmeval_tasks`: ``lmeval:<task>`` tasks run now through dabench's engines
  and store (an adapter and its base share one load; stored answers are reused).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from dabench.comparison import Comparison, ModelInfo
from dabench.engines.fingerprint import file_digest, fingerprint_of
from dabench.lmeval.pairing import pair_runs
from dabench.lmeval.samples import read_output_dir
from dabench.lmeval.stats import comparison_from_pairs
from dabench.verdicts import check_stats_options


def compare_from_lmeval(
    base_dir: str | os.PathLike,
    adapted_dir: str | os.PathLike,
    *,
    tasks: Sequence[str] | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    categories: Mapping[str, str] | None = None,
) -> Comparison:
    """Pair the per-sample logs of two lm-eval runs and test every shared task (or ``tasks``)."""
    check_stats_options(alpha, correction)
    base, adapted = read_output_dir(base_dir), read_output_dir(adapted_dir)
    pairs = pair_runs(base.tasks, adapted.tasks, tasks, where=(str(base_dir), str(adapted_dir)))

    def info(run) -> ModelInfo:
        fp = fingerprint_of("lm-eval-samples", *(file_digest(t.path) for t in run.tasks.values()))
        return ModelInfo(name=Path(str(run.model_name).rstrip("/")).name or run.model_name, path=str(run.folder),
                         fingerprint=fp)

    return comparison_from_pairs(
        pairs, info(base), info(adapted), resamples=resamples, seed=seed, alpha=alpha, margin=margin,
        correction=correction, categories=categories,
        config={"from_lmeval": [str(base_dir), str(adapted_dir)]},
        signature={"lmeval_n_shot": {t: base.tasks[t].n_shot for t in {p.lm_task for p in pairs}}},
    )


def evaluate_lmeval_side(
    get_engine: Any,
    model_fp: str,
    tasks: Sequence[str],
    store: Any,
    *,
    tm: Any,
    label: str = "",
    limit: int | float | None = None,
    shots: int | None = None,
    fewshot_seed: int = 1234,
    progress: Any = None,
) -> dict[str, Any]:
    """One model's answers to ``lmeval:`` tasks, through the store/engine: {task: LmevalTaskRun}.

    Call it for each side while that side's engine handle is live (before ``release``), as
    the native tasks are evaluated, so a model is loaded once for all its tasks.
    """
    from dabench.lmeval.bridge import evaluate_side, task_runs_from_results

    advance = progress.task(f"{label} · lm-eval", 0) if progress is not None else None
    results, _ = evaluate_side(get_engine, model_fp, tasks, store, tm=tm, label=label, limit=limit,
                               num_fewshot=shots, fewshot_seed=fewshot_seed, progress=advance)
    return task_runs_from_results(results)


def lmeval_tested(
    base_runs: Mapping[str, Any],
    adapted_runs: Mapping[str, Any],
    *,
    categories: Mapping[str, str] | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    margin: float | None = None,
) -> list[tuple[Any, Any]]:
    """(TaskResult, PairedResult) per lm-eval (task, filter), before multiplicity correction —
    the shape the native pipeline's ``tested`` list has, so both can be corrected together."""
    from dabench.lmeval.stats import DEFAULT_CATEGORY, task_result

    categories = dict(categories or {})
    return [task_result(p, category=categories.get(p.lm_task, DEFAULT_CATEGORY), resamples=resamples, seed=seed,
                        alpha=alpha, margin=margin) for p in pair_runs(base_runs, adapted_runs)]


def compare_lmeval_tasks(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    include_path: Sequence[str | os.PathLike] = (),
    limit: int | float | None = None,
    shots: int | None = None,
    fewshot_seed: int = 1234,
    seed: int = 0,
    resamples: int = 10_000,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    categories: Mapping[str, str] | None = None,
    store_path: str | os.PathLike | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> Comparison:
    """Run ``lmeval:<task>`` tasks for both models through dabench's engines and store, then compare."""
    from dabench.lmeval.bridge import task_manager
    from dabench.pipeline import _make_handles
    from dabench.store import Store

    check_stats_options(alpha, correction)
    tm = task_manager(tasks, include_path)
    base_h, adapted_h = _make_handles(base, adapted, engine, engine_options or {})
    runs = {}
    store = Store(store_path)
    try:
        for role, handle in (("base", base_h), ("adapted", adapted_h)):
            runs[role] = evaluate_lmeval_side(handle.get, handle.fingerprint(), tasks, store, tm=tm, label=role,
                                              limit=limit, shots=shots, fewshot_seed=fewshot_seed, progress=progress)
            handle.release()
    finally:
        store.close()
    pairs = pair_runs(runs["base"], runs["adapted"])
    return comparison_from_pairs(
        pairs, base_h.info(), adapted_h.info(), resamples=resamples, seed=seed, alpha=alpha, margin=margin,
        correction=correction, categories=categories,
        config={"engine": engine, "limit": limit, "shots": shots, "fewshot_seed": fewshot_seed,
                "include_path": [str(p) for p in include_path]},
    )
