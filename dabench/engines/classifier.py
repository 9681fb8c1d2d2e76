"""Fine-tuned sequence classifiers (``AutoModelForSequenceClassification``) as an engine.

Such a checkpoint predicts labels from the raw input (one text or a pair), not from a prompt.
Its outputs are matched to the task's labels **by name** through ``config.id2label`` (up to
case and ``-``/``_``/space, ``LABEL_k``, or the verbaliser), never by position: a permuted
order would make every score wrong. ``label_map`` (``"MODEL_LABEL=TASK_LABEL,..."``) says it
explicitly. Outputs that map to no task label are left out of the prediction. A one-output
(regression) head returns its value.
"""

from __future__ import annotations

import re
from typing import Any, Final, Mapping, Sequence

import torch

from dabench.engines.base import Engine, ProgressFn
from dabench.engines.checkpoints import head_of
from dabench.engines.hf import HFEngine, TransformersEngine, adapter_off, model_max_length
from dabench.errors import CheckpointError


def parse_label_map(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"A=x,B=y"`` or a mapping → {model label (name or index): task label}."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if any("=" not in p for p in parts):
        raise CheckpointError(f"--label-map {value!r}: expected MODEL_LABEL=TASK_LABEL pairs separated by commas")
    return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in parts)}


def _norm(s: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(s)).lower()


def match_labels(
    id2label: Mapping[int, str],
    labels: Sequence[str],
    *,
    verbalizers: Mapping[str, str] | None = None,
    explicit: Mapping[str, str] | None = None,
    where: str = "checkpoint",
) -> list[int]:
    """For each task label, the index of the model output it corresponds to."""
    id2label = {int(k): str(v) for k, v in id2label.items()}
    task_set = set(labels)
    chosen: dict[str, int] = {}
    if explicit:
        by_name = {v: k for k, v in id2label.items()}
        for model_label, task_label in explicit.items():
            if task_label not in task_set:
                raise CheckpointError(f"--label-map: {task_label!r} is not a label of the task ({', '.join(labels)})")
            if model_label in by_name:
                chosen[task_label] = by_name[model_label]
            elif model_label.isdigit() and int(model_label) in id2label:
                chosen[task_label] = int(model_label)
            else:
                raise CheckpointError(f"--label-map: {where} has no output label {model_label!r} "
                                      f"(its id2label: {', '.join(id2label.values())})")
    for lab in labels:
        if lab in chosen:
            continue
        keys = {_norm(lab), _norm(f"LABEL_{lab}")}
        if verbalizers and lab in verbalizers:
            keys.add(_norm(verbalizers[lab]))
        hits = [i for i, name in id2label.items() if _norm(name) in keys]
        if len(hits) == 1:
            chosen[lab] = hits[0]
        elif len(hits) > 1:
            raise CheckpointError(f"{where}: task label {lab!r} matches several output labels "
                                  f"({', '.join(id2label[h] for h in hits)}); pass --label-map")
    missing = [lab for lab in labels if lab not in chosen]
    if missing:
        raise CheckpointError(
            f"{where}: output labels ({', '.join(id2label[i] for i in sorted(id2label))}) do not name the task "
            f"labels {', '.join(missing)}; pass --label-map MODEL_LABEL=TASK_LABEL,...")
    indices = [chosen[lab] for lab in labels]
    if len(set(indices)) != len(indices):
        raise CheckpointError(f"{where}: two task labels map to the same output label; check --label-map")
    return indices


class HFClassifierEngine(TransformersEngine):
    """A sequence-classification checkpoint; scores task labels from raw inputs."""

    kind: Final = "classifier"
    auto_class = "AutoModelForSequenceClassification"

    def __init__(self, name: str, *, max_length: int | None = None, label_map: str | Mapping[str, str] | None = None,
                 **options: Any) -> None:
        self.label_map = parse_label_map(label_map)
        super().__init__(name, **options)
        cfg = self.model.config
        self.is_regression = cfg.problem_type == "regression" or int(cfg.num_labels) == 1
        limit = max_length or model_max_length(cfg, self.tokenizer)
        # BERT-style position tables count special tokens; stay inside the table
        self.max_length = min(limit, getattr(self.tokenizer, "model_max_length", limit) or limit)

    def output_indices(self, labels: Sequence[str], verbalizers: Mapping[str, str] | None = None) -> list[int]:
        """Model output index of each task label (see :func:`match_labels`)."""
        return match_labels(self.model.config.id2label, labels, verbalizers=verbalizers, explicit=self.label_map,
                            where=str(self.checkpoint.spec))

    @torch.inference_mode()
    def classify(
        self,
        inputs: Sequence[Sequence[str]],
        labels: Sequence[str],
        progress: ProgressFn | None = None,
        verbalizers: Mapping[str, str] | None = None,
    ) -> list[list[float]]:
        """Log-probabilities of the task labels (regression: ``[value]``) for each input."""
        idx = None if self.is_regression else torch.tensor(self.output_indices(labels, verbalizers), device=self.device)
        out: list[list[float]] = [[] for _ in inputs]
        order = sorted(range(len(inputs)), key=lambda i: -sum(len(t) for t in inputs[i]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            texts = [list(inputs[i]) for i in batch]
            if any(len(t) not in (1, 2) for t in texts):
                raise ValueError("a classifier input is one text or a pair of texts")
            first = [t[0] for t in texts]
            second = [t[1] for t in texts] if len(texts[0]) == 2 else None
            enc = self.tokenizer(first, second, padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="pt").to(self.device)
            with adapter_off(self.model, self.adapter_on):
                logits = self.model(**enc).logits.float()
            if self.is_regression:
                rows = logits[:, 0:1].tolist()
            else:
                rows = torch.log_softmax(logits, dim=-1)[:, idx].tolist()
            for i, r in zip(batch, rows):
                out[i] = r
            if progress:
                progress(len(batch))
        return out


def load_hf(checkpoint: str, **options: Any) -> Engine:
    """The ``hf`` engine's loader (here, above both its engines): a sequence-classification checkpoint
    gets the classifier engine, every other one the causal-LM engine; ``options`` may carry the
    ``resolved`` Checkpoint."""
    from dabench.engines import resolve_options

    ck = options.pop("resolved", None) or resolve_options(checkpoint, options)
    if head_of(ck, trust_remote_code=bool(options.get("trust_remote_code"))) == "classifier":
        return HFClassifierEngine(checkpoint, resolved=ck, **options)
    options.pop("label_map", None)  # a causal LM scores the task's own verbalisers
    return HFEngine(checkpoint, resolved=ck, **options)
