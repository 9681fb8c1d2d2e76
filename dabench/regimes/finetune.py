"""Fine-tune a backbone on one task with one seed (the DSP classifier recipe), predict the test split.

Model: backbone → pooled vector (CLS by default) → dropout → Linear(H, H) → tanh → Linear(H, K),
the ``basic_classifier_with_f1`` head of allenai/dont-stop-pretraining. Training: AdamW with
decoupled weight decay (none on biases and LayerNorm weights), the slanted-triangular
learning-rate schedule, gradient accumulation, batches of similar length (AllenNLP's bucket
sampler: sort by length with ±10% noise, then shuffle the batches), evaluation on the dev split
after every epoch with early stopping, and the weights of the best dev epoch for the test split.

Everything random — head initialisation, dropout, batch order — is drawn from the seed, and
every seed starts from the backbone's pretrained weights, so a seed's predictions are
reproducible and two identical backbones trained with the same seed predict identically.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from dabench.metrics.base import Metric
from dabench.progress import NullProgress, Progress
from dabench.regimes.backbone import Backbone, Encoded, pool, resolve_pooling
from dabench.regimes.config import FinetuneConfig

#: relative noise on lengths when bucketing batches (AllenNLP ``padding_noise``)
PADDING_NOISE = 0.1


class Classifier(nn.Module):
    """Backbone + DSP classification head."""

    def __init__(self, backbone: nn.Module, hidden: int, n_labels: int, dropout: float, pooling: str) -> None:
        super().__init__()
        self.backbone = backbone
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.feedforward = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, n_labels)

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        h = pool(self.backbone(**batch).last_hidden_state, batch["attention_mask"], self.pooling)
        return self.classifier(torch.tanh(self.feedforward(self.dropout(h))))


def slanted_triangular(total_steps: int, cut_frac: float, ratio: float) -> Callable[[int], float]:
    """Learning-rate multiplier at optimiser step t (Howard & Ruder 2018; AllenNLP's scheduler
    without gradual unfreezing): linear rise over ``cut_frac`` of the steps from 1/ratio to 1,
    then linear decay back to 1/ratio."""
    total = max(1, total_steps)
    cut = max(1, int(total * cut_frac))

    def factor(t: int) -> float:
        p = t / cut if t < cut else 1.0 - (t - cut) / max(1, total - cut)
        p = min(1.0, max(0.0, p))
        return (1.0 + p * (ratio - 1.0)) / ratio

    return factor


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of similar length in random order."""
    noisy = lengths * (1.0 + rng.uniform(-PADDING_NOISE, PADDING_NOISE, size=lengths.shape[0]))
    order = np.argsort(noisy, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, order.shape[0], batch_size)]
    return [batches[int(i)] for i in rng.permutation(len(batches))]


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name or "ln_" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def predict_logits(model: Classifier, backbone: Backbone, data: Encoded, batch_size: int,
                   advance: Callable[[int], None] | None = None) -> np.ndarray:
    """Logits ``(n, K)`` of every example (batched by length, returned in input order)."""
    model.eval()
    return backbone.outputs(data, batch_size, model.classifier.out_features, lambda batch: model(**batch), advance)


@dataclass
class SeedRun:
    """One fine-tuning run: test predictions and how training went."""

    seed: int
    test_pred: np.ndarray
    best_epoch: int
    epochs_run: int
    dev_score: float | None
    dev_history: list[float]
    seconds: float

    def meta(self) -> dict[str, Any]:
        return {"seed": self.seed, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run,
                "dev_score": self.dev_score, "dev_history": self.dev_history, "seconds": round(self.seconds, 2)}


def finetune_seed(
    backbone: Backbone,
    train: Encoded,
    dev: Encoded | None,
    test: Encoded,
    n_labels: int,
    cfg: FinetuneConfig,
    seed: int,
    *,
    select_metric: Metric,
    progress: Progress | None = None,
    label: str = "",
) -> SeedRun:
    """Fine-tune ``backbone`` with ``seed`` and predict ``test`` with the best dev epoch's weights."""
    progress = progress or NullProgress()
    start_time = time.perf_counter()
    net = backbone.reset()  # before seeding: loading the backbone may draw random numbers
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Classifier(net, backbone.hidden_size, n_labels, cfg.dropout,
                       resolve_pooling(cfg.pooling, backbone.config)).to(backbone.device)
    optimizer = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=cfg.adam_betas,
                                  eps=cfg.adam_eps)
    n_batches = math.ceil(len(train) / cfg.batch_size)
    steps_per_epoch = math.ceil(n_batches / cfg.grad_accum)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, slanted_triangular(cfg.epochs * steps_per_epoch, cfg.warmup, cfg.lr_ratio))
    loss_fn = nn.CrossEntropyLoss()
    labels = torch.as_tensor(train.labels, device=backbone.device)
    use_dev = dev is not None and cfg.patience > 0
    dev_batches = math.ceil(len(dev) / cfg.eval_batch_size) if use_dev and dev is not None else 0

    seed_bar = progress.task(f"{label} · seed {seed}", cfg.epochs)
    best_score, best_epoch, best_state = -math.inf, cfg.epochs, None
    history: list[float] = []
    waited = 0
    epoch = 0
    for epoch in range(1, cfg.epochs + 1):
        bar = progress.task(f"{label} · seed {seed} · epoch {epoch}", n_batches + dev_batches)
        model.train()
        optimizer.zero_grad()
        batches = bucket_batches(train.lengths(), cfg.batch_size, rng)
        for b, rows in enumerate(batches):
            loss = loss_fn(model(**backbone.batch(train, rows)), labels[torch.as_tensor(rows, device=backbone.device)])
            (loss / cfg.grad_accum).backward()
            if (b + 1) % cfg.grad_accum == 0 or b + 1 == len(batches):
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            bar(1)
        if use_dev:
            assert dev is not None
            pred = predict_logits(model, backbone, dev, cfg.eval_batch_size, lambda _: bar(1)).argmax(1)
            score = float(select_metric.score(pred, dev.labels))
            history.append(score)
            if score > best_score:
                best_score, best_epoch, waited = score, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
        seed_bar(1)
        if use_dev and waited >= cfg.patience:
            progress.note(f"{label} · seed {seed}: early stop after epoch {epoch} (best dev epoch {best_epoch})")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = epoch
    test_pred = predict_logits(model, backbone, test, cfg.eval_batch_size).argmax(1)
    return SeedRun(seed, test_pred.astype(np.int64), best_epoch, epoch, best_score if use_dev else None, history,
                   time.perf_counter() - start_time)
