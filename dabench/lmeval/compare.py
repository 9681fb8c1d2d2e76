"""Head-to-head comparisons on lm-eval tasks.

- :func:`compare_from_lmeval`: two existing lm-eval output folders (``--log_samples``),
  paired on (task, doc_id, filter) — nothing is re-run.
- :class:`LmevalPlan` (:func:`compare_lmeval_tasks`): ``lmeval:<task>`` tasks, their requests
  answered by dabench's engines as work units through the store (:mod:`dabench.lmeval.answers`).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, Mapping, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, created_now
from dabench.engines.fingerprint import file_digest, fingerprint_of
from dabench.lmeval.pairing import pair_runs
from dabench.lmeval.samples import read_output_dir
from dabench.lmeval.stats import task_result
from dabench.orchestrator import stats_settings
from dabench.verdicts import apply_verdicts, check_stats_options
from dabench.work import Run


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

    def info(run: Any) -> ModelInfo:
        fp = fingerprint_of("lm-eval-samples", *(file_digest(t.path) for t in run.tasks.values()))
        return ModelInfo(name=Path(str(run.model_name).rstrip("/")).name or run.model_name, path=str(run.folder),
                         fingerprint=fp)

    b, a = info(base), info(adapted)
    tested = [task_result(p, categories=categories or {}, resamples=resamples, seed=seed, alpha=alpha, margin=margin)
              for p in pairs]
    results = apply_verdicts(tested, correction=correction, alpha=alpha, margin=margin)
    stats = SimpleNamespace(seed=seed, resamples=resamples, alpha=alpha, margin=margin, correction=correction)
    config = {"tasks": [r.task for r in results], **stats_settings(stats), "source": "lm-eval",
              "from_lmeval": [str(base_dir), str(adapted_dir)]}
    signature = {"dabench_version": __version__, "fingerprints": {"base": b.fingerprint, "adapted": a.fingerprint},
                 **stats_settings(stats, with_margin=False),
                 "lmeval_n_shot": {t: base.tasks[t].n_shot for t in {p.lm_task for p in pairs}}}
    return Comparison(base=b, adapted=a, config=config, tasks=results, signature=signature,
                      dabench_version=__version__, created=created_now())


class LmevalPlan:
    """The ``lmeval:`` tasks of a comparison (a :class:`~dabench.orchestrator.KindPlan`): the task manager
    built before any model loads, answers through dabench's engine and store, a paired test per (task, filter)."""

    kind = "lm-eval"

    def __init__(self, tasks: Sequence[str], *, include_path: Sequence[str | os.PathLike[str]] = (),
                 limit: int | float | None = None, shots: int | None = None, fewshot_seed: int = 1234,
                 seed: int = 0, resamples: int = 10_000, alpha: float = 0.05, margin: float | None = None,
                 correction: str = "holm", categories: Mapping[str, str] | None = None, engine: str = "hf",
                 include_key: str = "include_path") -> None:
        from dabench.lmeval.answers import collect
        from dabench.lmeval.bridge import check_datasets, task_manager

        check_stats_options(alpha, correction)
        self.tasks = list(tasks)
        self.include_path = [str(p) for p in include_path]
        self.tm = task_manager(self.tasks, include_path)
        check_datasets(self.tm, self.tasks)
        self.requests = collect(self.tm, self.tasks, limit=limit, num_fewshot=shots, fewshot_seed=fewshot_seed)
        self.limit, self.shots, self.fewshot_seed = limit, shots, fewshot_seed
        self.seed, self.resamples, self.alpha, self.margin, self.correction = seed, resamples, alpha, margin, correction
        self.categories = dict(categories or {})
        self.engine = engine
        self.include_key = include_key
        self.runs: dict[str, dict[str, Any]] = {}
        #: lm-eval's own results per side (aggregates and samples)
        self.results: dict[str, dict[str, Any]] = {}

    def side(self, role: str, handle: Any) -> Iterator[list[Run]]:
        from dabench.lmeval.answers import replay, task_runs
        from dabench.lmeval.bridge import task_runs_from_results

        runs = task_runs(self.requests, role)
        yield list(runs.values())
        records = {task: run.records for task, run in runs.items()}
        self.results[role] = replay(self.tm, self.tasks, self.requests, records)
        self.runs[role] = task_runs_from_results(self.results[role])

    def test(self) -> list[tuple[Any, Any]]:
        return [task_result(p, categories=self.categories, resamples=self.resamples, seed=self.seed, alpha=self.alpha,
                            margin=self.margin) for p in pair_runs(self.runs["base"], self.runs["adapted"])]

    def config(self, results: Sequence[Any]) -> dict[str, Any]:
        return {"tasks": [r.task for r in results], **stats_settings(self), "source": "lm-eval",
                "engine": self.engine, "limit": self.limit, "shots": self.shots, "fewshot_seed": self.fewshot_seed,
                self.include_key: self.include_path}

    def signature(self, results: Sequence[Any], infos: Mapping[str, ModelInfo]) -> dict[str, Any]:
        return {"fingerprints": {"base": infos["base"].fingerprint, "adapted": infos["adapted"].fingerprint},
                **stats_settings(self, with_margin=False)}


def compare_lmeval_tasks(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    store_path: str | os.PathLike[str] | None = None,
    engine: str = "hf",
    engine_options: Mapping[str, Any] | None = None,
    progress: Any = None,
    executor: Any = None,
    shard: tuple[int, int] | None = None,
    **options: Any,
) -> Comparison:
    """Run ``lmeval:<task>`` tasks for both models through dabench's engines and store, then
    compare (``options``: those of :class:`LmevalPlan`)."""
    from dabench.handles import make_handles
    from dabench.orchestrator import run_plans

    plan = LmevalPlan(tasks, engine=engine, **options)
    handles = make_handles(base, adapted, engine, engine_options or {})
    return run_plans(handles, [plan], store_path=store_path, progress=progress if progress is not None else False,
                     correction=plan.correction, alpha=plan.alpha, margin=plan.margin, executor=executor, shard=shard)
