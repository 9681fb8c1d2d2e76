"""The splits a trained regime needs: train (to fit), dev (to stop early / choose), test (to compare).

All are read and validated before any model is loaded. The test split is the task's
evaluation split, cut by ``--limit`` exactly as in prompting comparisons; train and dev can be
subsampled (``train_limit`` / ``dev_limit``) to a fixed random subset — the same for every
model and seed, kept in file order — so a quick run still sees every label.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from dabench.data.example import Example
from dabench.errors import TaskError
from dabench.model_runs import ids_hash
from dabench.runner import TaskPlan, plan_task
from dabench.taskspec import TaskSpec

#: seed of the train/dev subsample (independent of the training seeds)
SUBSET_SEED = 0


@dataclass
class RegimeData:
    """Train, dev (None when the task has no dev split apart from its test split) and test plans."""

    spec: TaskSpec
    train: TaskPlan
    dev: TaskPlan | None
    test: TaskPlan

    def data_key(self) -> dict[str, object]:
        """Hashes of the files and of the chosen ids of every split (part of the run key)."""
        out: dict[str, object] = {}
        for name, plan in (("train", self.train), ("dev", self.dev), ("test", self.test)):
            if plan is not None:
                out[name] = {"split": plan.split, "data": plan.data_hash, "ids": ids_hash([e.id for e in plan.examples])}
        return out


def subset(examples: list[Example], limit: int | None) -> list[Example]:
    """A fixed random subset of ``limit`` examples in file order (all when ``limit`` is None or larger)."""
    if limit is None or limit >= len(examples):
        return list(examples)
    rng = np.random.default_rng(SUBSET_SEED)
    keep = np.sort(rng.choice(len(examples), size=limit, replace=False))
    return [examples[int(i)] for i in keep]


def train_split_of(spec: TaskSpec) -> str:
    if "train" in spec.files:
        return "train"
    if spec.fewshot_split and spec.fewshot_split != spec.eval_split:
        return spec.fewshot_split
    raise TaskError(f"task {spec.name!r} declares no train split; fine-tuning and probing need one")


def load_regime_data(
    spec: TaskSpec,
    data_dir: Path | None,
    *,
    limit: int | None,
    train_limit: int | None,
    dev_limit: int | None,
    need_dev: bool,
    overrides: Mapping[str, str | os.PathLike] | None = None,
) -> RegimeData:
    """Plans of the three splits; a one-line error when a needed split is missing."""
    if spec.type != "classification":
        raise TaskError(f"task {spec.name!r} is a {spec.type} task; the fine-tune and probe regimes train classifiers")
    train_split = train_split_of(spec)
    if train_split == spec.eval_split:
        raise TaskError(f"task {spec.name!r}: its train split is its evaluation split; nothing would be held out")
    test = plan_task(spec, data_dir, split=spec.eval_split, limit=limit, overrides=overrides)
    train = plan_task(spec, data_dir, split=train_split, overrides=overrides)
    train.examples = subset(train.examples, train_limit)
    dev = None
    if spec.validation_split and spec.validation_split != spec.eval_split:
        dev = plan_task(spec, data_dir, split=spec.validation_split, overrides=overrides)
        dev.examples = subset(dev.examples, dev_limit)
    elif need_dev:
        raise TaskError(f"task {spec.name!r} has no dev split apart from its evaluation split, and early stopping "
                        "never looks at the test data; pass --patience 0 to train a fixed number of epochs")
    return RegimeData(spec, train, dev, test)
