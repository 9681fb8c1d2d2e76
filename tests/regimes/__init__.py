"""Tests of the trained regimes (fine-tune, probe) on the tiny BERT pair of ``tests._builders``."""

from __future__ import annotations

from pathlib import Path

#: task specs of the regime tests (binary ChemProt tasks with small splits)
TASKS_DIR = Path(__file__).resolve().parent / "tasks"
#: a quick fine-tuning setup for the tiny backbones (the same for both models)
FAST = dict(seeds=2, limit=80, train_limit=240, dev_limit=60, epochs=6, patience=3, batch_size=16, max_length=64,
            lr=2e-3, pooling="mean", resamples=2000, tasks_dirs=[TASKS_DIR],
            hyperparameters={"grad_accum": 1, "select_metric": "macro_f1", "lr_ratio": 1.0})
