"""The fine-tune and probe kinds: base vs adapted backbone, each trained on every task (or probed), paired on the test examples.

Data flow, as in the prompting comparison: train/dev/test data read before any model loads →
per model and seed, test predictions through the store → paired seeds t-test over seeds ×
examples (:func:`dabench.stats.paired_test_seeds`; a single deterministic probe run uses
:func:`dabench.stats.paired_test`) → mean ± sd per model in each task's ``regime`` details.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from dabench.comparison import DISAGREEMENTS_KEPT, ModelInfo, TaskResult
from dabench.example_rows import disagreements, example_row
from dabench.data import resolve_data_dir
from dabench.errors import TaskError
from dabench.metrics import task_metric
from dabench.handles import ModelHandle
from dabench.model_runs import run_key
from dabench.orchestrator import spec_config, spec_signature
from dabench.progress import Advance, Progress
from dabench.registry import get_registry
from dabench.regimes.backbone import Backbone, Encoded
from dabench.regimes.config import FinetuneConfig, ProbeConfig, get_preset, with_overrides
from dabench.regimes.data import RegimeData, load_regime_data
from dabench.regimes.finetune import finetune_seed
from dabench.regimes.probe import probe_run
from dabench.stats import PairedResult, SeedsResult, paired_test, paired_test_seeds
from dabench.store import RunInfo
from dabench.work import Run
from dabench.verdicts import check_stats_options
from dabench.taskspec import TaskSpec

#: record id, per seed, of the run's training details; stored in the same transaction as the
#: predictions, so its presence marks a completed seed
META_ID = "#meta"

Runs = dict[int, tuple[np.ndarray, dict[str, Any]]]


def seed_list(seeds: int | Sequence[int] | None, default: int) -> list[int]:
    """``seeds`` as a list: a count n → 0..n−1, or explicit seeds."""
    seeds = default if seeds is None else seeds
    out = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not out:
        raise TaskError("--seeds must be at least 1")
    if len(set(out)) != len(out):
        raise TaskError("--seeds lists a seed twice")
    return out


class RegimePlan:
    """The tasks of a fine-tune or probe comparison (a :class:`~dabench.orchestrator.KindPlan`):
    hyperparameters resolved and data read before any backbone loads, then per side each seed's
    test predictions through the store, then the seeds t-test (fine-tune) or a paired test (probe)."""

    def __init__(self, tasks: Sequence[str], handles: tuple[ModelHandle, ModelHandle], *, regime: str,
                 data_dir: str | os.PathLike[str] | None, data_files: Mapping[str, Mapping[str, str]] | None,
                 seeds: int | Sequence[int] | None, limit: int | None, preset: str | None,
                 hyperparameters: Mapping[str, Any] | None, seed: int, resamples: int, alpha: float,
                 margin: float | None, correction: str, domain: str | None,
                 tasks_dirs: Sequence[str | os.PathLike[str]], named: Mapping[str, Any]) -> None:
        check_stats_options(alpha, correction)
        self.kind = self.regime = regime
        chosen = get_preset(preset)
        overrides = {**(hyperparameters or {}), **{k: v for k, v in named.items() if v is not None}}
        self.cfg: FinetuneConfig | ProbeConfig = (with_overrides(chosen.finetune, overrides) if regime == "finetune"
                                                  else with_overrides(chosen.probe, overrides))
        self.seeds = seed_list(seeds, chosen.seeds) if regime == "finetune" else [0]
        self.preset = preset
        self.specs = get_registry([Path(d) for d in tasks_dirs]).resolve(tasks)
        self.root = resolve_data_dir(data_dir)
        cfg = self.cfg
        need_dev = isinstance(cfg, FinetuneConfig) and cfg.patience > 0
        self.datas = {s.name: load_regime_data(s, self.root, limit=limit, train_limit=cfg.train_limit,
                                               dev_limit=cfg.dev_limit, need_dev=need_dev,
                                               overrides=(data_files or {}).get(s.name)) for s in self.specs}
        for s in self.specs:  # metric names are checked before any model loads
            task_metric(s, cfg.select_metric or s.metric)
        self.limit, self.seed, self.resamples, self.alpha, self.margin = limit, seed, resamples, alpha, margin
        self.correction, self.domain = correction, domain
        self.keys = {s.name: run_key({"kind": f"regime/{regime}", "spec": s.spec_hash(),
                                      "data": self.datas[s.name].data_key(), "config": cfg.key()})
                     for s in self.specs}
        self.runs: dict[str, dict[str, Runs]] = {"base": {}, "adapted": {}}

    def side(self, role: str, handle: ModelHandle) -> Iterator[list[Run]]:
        """One unit per (task, seed), stored whole or not at all: an interrupted fine-tune resumes at its seed."""
        runs = {(s.name, sd): _seed_run(role, s, self.datas[s.name], self.cfg, self.regime, sd, self.keys[s.name])
                for s in self.specs for sd in self.seeds}
        yield list(runs.values())
        for s in self.specs:
            test_ids = [ex.id for ex in self.datas[s.name].test.examples]
            records = {sd: runs[(s.name, sd)].records for sd in self.seeds}
            self.runs[role][s.name] = {sd: (np.array([rec[i]["pred"] for i in test_ids], dtype=np.int64), rec[META_ID])
                                       for sd, rec in records.items()}

    def test(self) -> list[tuple[TaskResult, Any]]:
        return [_task_result(self, s) for s in self.specs]

    def config(self, results: Sequence[TaskResult]) -> dict[str, Any]:
        cfg = self.cfg
        hyper = cfg.key() | ({"eval_batch_size": cfg.eval_batch_size} if isinstance(cfg, FinetuneConfig)
                             else {"batch_size": cfg.batch_size})
        return {
            "regime": self.regime,
            "preset": self.preset or "dsp",
            "seeds": self.seeds,
            "hyperparameters": hyper,
            **spec_config(self),
            "engine": "hf",
        }

    def signature(self, results: Sequence[TaskResult], infos: dict[str, ModelInfo]) -> dict[str, Any]:
        hashes = {s.name: self.datas[s.name].data_key() for s in self.specs}
        return {**spec_signature(self, hashes, infos, run_keys=self.keys), "regime": self.regime, "seeds": self.seeds}


def _seed_run(role: str, spec: TaskSpec, data: RegimeData, cfg: FinetuneConfig | ProbeConfig, regime: str, seed: int,
              key: str) -> Run:
    """One seed's test predictions (and its training details under :data:`META_ID`)."""
    info = RunInfo(model_name=role, task=spec.name, spec_hash=spec.spec_hash(), config={"regime": regime, **cfg.key()})
    return Run(kind=regime, task=spec.name, label=None, run_key=key, info=info, seed=seed, shard_size=None,
               ids=[ex.id for ex in data.test.examples] + [META_ID],
               job=_TrainJob(spec, data, cfg, seed, f"{role} · {spec.name}"))


class _TrainJob:
    """Trains (or probes) the handle's backbone on one task with one seed: every test prediction
    and the run's details. Backbone and encoded data are handle views: a side's seeds share one load."""

    def __init__(self, spec: TaskSpec, data: RegimeData, cfg: FinetuneConfig | ProbeConfig, seed: int,
                 label: str) -> None:
        self.spec, self.data, self.cfg, self.seed, self.label = spec, data, cfg, seed, label

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance
                 ) -> list[tuple[str, Any]]:
        spec, data, cfg = self.spec, self.data, self.cfg
        backbone = handle.view("backbone", _backbone)
        fields = list(spec.fields)

        def encode(_: ModelHandle) -> tuple[Encoded, Encoded | None, Encoded]:
            enc = lambda plan: backbone.encode(plan.examples, fields, spec.labels, cfg.max_length)  # noqa: E731
            return enc(data.train), (enc(data.dev) if data.dev is not None else None), enc(data.test)

        encoded = handle.view(f"encoded/{spec.name}/{cfg.max_length}", encode)
        select = task_metric(spec, cfg.select_metric or spec.metric)
        if isinstance(cfg, FinetuneConfig):
            run: Any = finetune_seed(backbone, *encoded, len(spec.labels), cfg, self.seed, select_metric=select,
                                     progress=progress, label=self.label)
        else:
            run = probe_run(backbone, *encoded, cfg, select_metric=select, progress=progress, label=self.label)
        test_ids = [ex.id for ex in data.test.examples]
        return [(i, {"pred": int(p)}) for i, p in zip(test_ids, run.test_pred)] + [(META_ID, run.meta())]


def _backbone(handle: ModelHandle) -> Backbone:
    return Backbone(handle.checkpoint, handle.options, checkpoint=handle.resolved)


def majority(preds: np.ndarray, n_labels: int) -> np.ndarray:
    """Per example, the label predicted by most seeds (ties: the smallest label index)."""
    return (preds[:, :, None] == np.arange(n_labels)).sum(0).argmax(1)


def _task_result(plan: RegimePlan, spec: TaskSpec) -> tuple[TaskResult, PairedResult | SeedsResult]:
    regime, seeds, cfg, data = plan.regime, plan.seeds, plan.cfg, plan.datas[spec.name]
    runs_b, runs_a = plan.runs["base"][spec.name], plan.runs["adapted"][spec.name]
    options: dict[str, Any] = dict(resamples=plan.resamples, seed=plan.seed, alpha=plan.alpha, margin=plan.margin)
    metric = task_metric(spec, spec.metric)
    refs = data.test.references()
    pb, pa = (np.stack([runs[s][0] for s in seeds]) for runs in (runs_b, runs_a))
    clusters = [ex.cluster for ex in data.test.examples] if spec.cluster_field else None
    res: PairedResult | SeedsResult
    if regime == "finetune":
        over_seeds = paired_test_seeds(metric, np.stack([metric.stats(p, refs) for p in pb]),
                                       np.stack([metric.stats(p, refs) for p in pa]), clusters=clusters, **options)
        scores_b, scores_a = list(over_seeds.base_scores), list(over_seeds.adapted_scores)
        sd_b, sd_a = over_seeds.base_sd, over_seeds.adapted_sd
        test_name = (f"seeds t-test (examples {1 - over_seeds.seed_share:.0%} / seeds {over_seeds.seed_share:.0%} of "
                     f"the variance, df {over_seeds.df:.1f})"
                     if over_seeds.seed_share is not None and over_seeds.df is not None else "seeds t-test")
        res = over_seeds
    else:
        one_run = paired_test(metric, metric.stats(pb[0], refs), metric.stats(pa[0], refs), clusters=clusters,
                              **options)
        scores_b, scores_a = [float(one_run.base)], [float(one_run.adapted)]
        sd_b = sd_a = None
        test_name = f"paired permutation ({one_run.permutation_method}); paired bootstrap CI"
        res = one_run
    secondary = {}
    for name in spec.secondary_metrics:
        m = task_metric(spec, name)
        sb, sa = (float(np.mean([m.score(p, refs) for p in preds])) for preds in (pb, pa))
        secondary[name] = {"base": sb, "adapted": sa, "delta": sa - sb}
    details = {
        "regime": regime,
        "seeds": seeds,
        "base_scores": scores_b,
        "adapted_scores": scores_a,
        "base_mean": float(np.mean(scores_b)),
        "base_sd": sd_b,
        "adapted_mean": float(np.mean(scores_a)),
        "adapted_sd": sd_a,
        "se": float(res.se),
        "test": test_name,
        "train_examples": len(data.train.examples),
        "dev_examples": len(data.dev.examples) if data.dev is not None else 0,
        "select_metric": cfg.select_metric or spec.metric,
        "runs": {"base": [runs_b[s][1] for s in seeds], "adapted": [runs_a[s][1] for s in seeds]},
        "disagreements": "majority vote over seeds" if regime == "finetune" and len(seeds) > 1 else "single run",
    }
    vote_b, vote_a = majority(pb, len(spec.labels)), majority(pa, len(spec.labels))
    result = TaskResult.from_paired(
        res, task=spec.name, category=spec.category_for(plan.domain), metric=spec.metric, n=len(refs),
        secondary=secondary, regime=details,
    )
    result.examples = _rows(spec, data, vote_b, vote_a, refs)
    result.disagreements = disagreements(result.examples, list(vote_b != vote_a), DISAGREEMENTS_KEPT)
    return result, res


def _rows(spec: TaskSpec, data: RegimeData, pred_b: np.ndarray, pred_a: np.ndarray, refs: np.ndarray
          ) -> list[dict[str, Any]]:
    """Every test example's row (the predictions: majority votes over seeds), scored right / wrong."""
    def shown(i: int) -> str:
        return spec.verbalizers[spec.labels[int(i)]]

    return [example_row(ex.id, " | ".join(ex.inputs.values()), spec.verbalizers.get(ex.label or "", ex.label or ""),
                        shown(pred_b[i]), shown(pred_a[i]), base_score=float(pred_b[i] == refs[i]),
                        adapted_score=float(pred_a[i] == refs[i]))
            for i, ex in enumerate(data.test.examples)]
