"""Hyperparameters of the fine-tuning and probing regimes, and the named presets.

``dsp`` follows the classifier recipe of Gururangan et al. 2020 ("Don't Stop Pretraining"),
as released in allenai/dont-stop-pretraining (``environments/hyperparameters.py``,
``ROBERTA_CLASSIFIER``, and ``training_config/classifier.jsonnet``, commit 229e0bb):
learning rate 2e-5, batch 16 with 2 gradient-accumulation steps, 10 epochs, early-stopping
patience 3 on the dev split, dropout 0.1, CLS pooling into one tanh feed-forward layer,
AdamW (β = 0.9, 0.98; ε = 1e-6; weight decay 0.1, none on biases and LayerNorm),
slanted-triangular schedule with 6% warm-up, inputs up to 512 tokens, 5 seeds.

``small-cpu`` keeps the recipe's shape but makes a full base-vs-adapted run fit in minutes
on two CPU cores: fewer epochs, a subsample of the training and dev splits, shorter inputs,
3 seeds, and a larger learning rate (1e-4, usual for small encoders such as MiniLM) because
there are far fewer steps. Its numbers are a
quick look, not a replication of published results; docs/regimes.md says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping, TypeVar

from dabench.errors import TaskError

POOLINGS = ("auto", "cls", "mean", "last")


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning hyperparameters (identical for both backbones of a comparison)."""

    lr: float = 2e-5
    batch_size: int = 16
    grad_accum: int = 2
    epochs: int = 10
    #: epochs without dev improvement before stopping; 0 = no early stopping (no dev split needed)
    patience: int = 3
    dropout: float = 0.1
    weight_decay: float = 0.1
    #: slanted-triangular warm-up fraction (AllenNLP ``cut_frac``) and ``ratio``
    warmup: float = 0.06
    lr_ratio: float = 32.0
    adam_betas: tuple[float, float] = (0.9, 0.98)
    adam_eps: float = 1e-6
    max_length: int = 512
    #: ``auto``: CLS (first token) for encoders, last token for decoder-only backbones
    pooling: str = "auto"
    #: train / dev examples used (a fixed random subset, in file order); None = all
    train_limit: int | None = None
    dev_limit: int | None = None
    #: metric chosen on the dev split for early stopping; None = the task's headline metric
    select_metric: str | None = None
    eval_batch_size: int = 64

    def key(self) -> dict[str, Any]:
        """What changes the results (enters the store's run key)."""
        d = asdict(self)
        d.pop("eval_batch_size")
        return d


@dataclass(frozen=True)
class ProbeConfig:
    """Linear probe: frozen features + logistic regression (regularisation chosen on dev)."""

    pooling: str = "mean"
    max_length: int = 512
    batch_size: int = 32
    #: inverse regularisation strengths tried; the best on the dev split is kept
    c_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    max_iter: int = 2000
    train_limit: int | None = None
    dev_limit: int | None = None
    select_metric: str | None = None

    def key(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("batch_size")
        return d


@dataclass(frozen=True)
class Preset:
    """A named set of defaults for both regimes and the number of seeds."""

    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    seeds: int = 5
    description: str = ""


PRESETS: dict[str, Preset] = {
    "dsp": Preset(description="DSP classifier recipe (Gururangan et al. 2020): lr 2e-5, batch 16×2, 10 epochs, patience 3, 5 seeds"),
    "small-cpu": Preset(
        finetune=FinetuneConfig(lr=1e-4, batch_size=16, grad_accum=1, epochs=3, patience=3, max_length=128,
                                train_limit=400, dev_limit=200),
        probe=ProbeConfig(max_length=128, train_limit=1000, dev_limit=300),
        seeds=3,
        description="two CPU cores, minutes: lr 1e-4, batch 16, 3 epochs (best dev epoch kept), 128 tokens, "
                    "400 train / 200 dev examples, 3 seeds; probe on 1000 train / 300 dev",
    ),
}


def get_preset(name: str | None) -> Preset:
    if name is None:
        return PRESETS["dsp"]
    try:
        return PRESETS[name]
    except KeyError:
        raise TaskError(f"--preset must be one of {', '.join(PRESETS)}, not {name!r}") from None


Config = TypeVar("Config", "FinetuneConfig", "ProbeConfig")


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """``config`` with the non-None ``overrides`` applied; unknown names are an error."""
    names = {f.name for f in fields(config)}
    unknown = [k for k, v in overrides.items() if v is not None and k not in names]
    if unknown:
        raise TaskError(f"unknown {type(config).__name__} hyperparameter(s): {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(names))}")
    # values as the user gave them (validated below); lists (from JSON/YAML) become the configs' tuples
    changes: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v is not None}
    new = replace(config, **changes)
    _validate(new)
    return new


def _validate(cfg: FinetuneConfig | ProbeConfig) -> None:
    for name in ("lr", "batch_size", "grad_accum", "epochs", "max_length", "train_limit", "dev_limit", "max_iter"):
        v = getattr(cfg, name, None)
        if v is not None and not v > 0:
            raise TaskError(f"--{name.replace('_', '-')} must be positive, not {v}")
    if getattr(cfg, "patience", 0) < 0:
        raise TaskError("--patience must be 0 (no early stopping) or more")
    if cfg.pooling not in POOLINGS:
        raise TaskError(f"--pooling must be one of {', '.join(POOLINGS)}, not {cfg.pooling!r}")
    if isinstance(cfg, FinetuneConfig) and not 0 <= cfg.dropout < 1:
        raise TaskError("--dropout must lie in [0, 1)")
