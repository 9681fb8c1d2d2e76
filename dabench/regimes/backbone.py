"""A pretrained backbone (encoder, or decoder-only LM) to fine-tune or probe, and its inputs.

The backbone is loaded with ``AutoModel`` through :mod:`dabench.engines.checkpoints` (local
directories, hub ids in the cache, ``.ckpt`` files with ``--arch``, PEFT adapters — merged
into the weights, since fine-tuning updates them), in float32. Any LM head the checkpoint
carries is ignored: the regimes put their own head on the hidden states. Its initial weights
are kept in memory, so every seed starts from exactly the pretrained weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import torch

from dabench.data.example import Example
from dabench.engines import checkpoints as ckpts, resolve_options
from dabench.engines.scoring import padded

if TYPE_CHECKING:  # transformers loads with the model
    from transformers import PreTrainedTokenizerBase


def resolve_pooling(pooling: str, config: Any) -> str:
    """``pooling``; ``auto`` is the last token for decoder-only LMs (GPT-2, Llama …), else CLS (BERT …)."""
    if pooling != "auto":
        return pooling
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES

    kind = getattr(config, "model_type", "")
    decoder_only = (not getattr(config, "is_encoder_decoder", False) and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
                    and kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    return "last" if decoder_only else "cls"


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """``(B, L, H)`` hidden states → ``(B, H)``: first token, masked mean, or last real token."""
    if how == "cls":
        return hidden[:, 0]
    if how == "mean":
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    if how == "last":
        last = mask.sum(1).long() - 1
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    raise ValueError(f"unknown pooling {how!r}")


@dataclass
class Encoded:
    """Token ids of a split's examples (unpadded) and their gold label indices."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)

    def lengths(self) -> np.ndarray:
        return np.array([len(x) for x in self.input_ids])


class Backbone:
    """A checkpoint used as a trainable backbone; loaded on first use, released when done."""

    def __init__(self, name: str, options: Mapping[str, Any] | None = None, *,
                 checkpoint: ckpts.Checkpoint | None = None) -> None:
        """``checkpoint``: the checkpoint as a model handle resolved it (else resolved from
        ``name`` and ``options`` here)."""
        self.name = name
        self.options = dict(options or {})
        self.ck = checkpoint or resolve_options(name, self.options)
        self.config = ckpts.read_config(self.ck, trust_remote_code=self._trust)
        self._model: torch.nn.Module | None = None
        self._initial: dict[str, torch.Tensor] | None = None
        self._tok: PreTrainedTokenizerBase | None = None

    @property
    def _trust(self) -> bool:
        return bool(self.options.get("trust_remote_code"))

    @property
    def device(self) -> torch.device:
        from dabench.engines.hf import pick_device

        return pick_device(self.options.get("device"))

    @property
    def hidden_size(self) -> int:
        cfg = getattr(self.config, "text_config", None) or self.config
        return int(getattr(cfg, "hidden_size", None) or getattr(cfg, "n_embd", None) or getattr(cfg, "d_model"))

    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tok is None:
            tok = ckpts.load_tokenizer(self.ck, trust_remote_code=self._trust)
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
            self._tok = tok
        return self._tok

    def model(self) -> torch.nn.Module:
        """The backbone with its pretrained weights (restored by :meth:`reset`)."""
        if self._model is None:
            from transformers.utils import logging as hf_logging

            # a backbone drops the checkpoint's task head (an MLM head: "unexpected" weights) and may lack a
            # pooler it never uses: transformers' load report would list both as if something were wrong
            level = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()
            try:
                model = ckpts.load_model(self.ck, self._model_class(), dtype=torch.float32,
                                         trust_remote_code=self._trust,
                                         allow_pickle=bool(self.options.get("allow_pickle")))
            finally:
                hf_logging.set_verbosity(level)
            if hasattr(model, "merge_and_unload"):  # a PEFT adapter: fold it into the weights, keep the encoder
                model = model.merge_and_unload().base_model
            self._model = model.to(self.device)
            self._initial = {k: v.detach().clone() for k, v in self._model.state_dict().items()}
        return self._model

    def _model_class(self) -> Any:
        """``AutoModel`` (the bare backbone), except for a PEFT adapter: its weights are named after
        the model it was trained on (``bert.encoder…`` of a ``BertForMaskedLM``), so it is put on
        that class and the backbone taken out after merging."""
        import transformers

        if self.ck.kind != "adapter":
            return transformers.AutoModel
        cfg = ckpts.adapter_config(self.ck)
        name = (cfg.get("auto_mapping") or {}).get("base_model_class") or next(
            iter(getattr(self.config, "architectures", None) or []), None)
        cls = getattr(transformers, str(name), None) if name else None
        return cls if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel) else transformers.AutoModel

    def reset(self) -> torch.nn.Module:
        """The backbone, with its pretrained weights restored (each seed starts from them)."""
        model = self.model()
        assert self._initial is not None
        model.load_state_dict(self._initial)
        return model

    def release(self) -> None:
        self._model = None
        self._initial = None
        import gc

        gc.collect()

    def encode(self, examples: Sequence[Example], fields: Sequence[str], labels: Sequence[str], max_length: int) -> Encoded:
        """Token ids of each example's input (one text, or a text pair), truncated to ``max_length``."""
        tok = self.tokenizer()
        window = _window(self.config, max_length)
        # keyed by what an example's label may be: an unlabelled example (None) is a KeyError like an unknown label
        index: dict[str | None, int] = {lab: i for i, lab in enumerate(labels)}
        first = [ex.inputs[fields[0]] for ex in examples]
        second = [ex.inputs[fields[1]] for ex in examples] if len(fields) > 1 else None
        enc = tok(first, second, truncation=True, max_length=window) if second else tok(first, truncation=True, max_length=window)
        tt = enc.get("token_type_ids") if "token_type_ids" in enc else None
        return Encoded(list(enc["input_ids"]), list(tt) if tt is not None else None,
                       np.array([index[ex.label] for ex in examples], dtype=np.int64))

    @torch.no_grad()
    def outputs(self, data: Encoded, batch_size: int, width: int, fn: Callable[[dict[str, torch.Tensor]], torch.Tensor],
                advance: Callable[[int], None] | None = None) -> np.ndarray:
        """``fn``'s ``(B, width)`` output on batches of ``data`` (by length), as float64 in input order;
        ``advance`` gets each batch's size."""
        order = np.argsort(-data.lengths(), kind="stable")
        out = np.zeros((len(data), width))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = fn(self.batch(data, rows)).double().cpu().numpy()
            if advance is not None:
                advance(len(rows))
        return out

    def batch(self, data: Encoded, rows: Sequence[int] | np.ndarray) -> dict[str, torch.Tensor]:
        """A right-padded batch of ``rows`` (indices into ``data``) on the backbone's device."""
        ids, mask = padded([data.input_ids[i] for i in rows], self.tokenizer().pad_token_id or 0, left=False)
        out = {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
        if data.token_type_ids is not None:
            out["token_type_ids"] = padded([data.token_type_ids[i] for i in rows], 0, left=False)[0].to(self.device)
        return out


def _window(config: Any, max_length: int) -> int:
    cfg = getattr(config, "text_config", None) or config
    for attr in ("max_position_embeddings", "n_positions"):
        v = getattr(cfg, attr, None)
        if v:
            return int(min(max_length, int(v)))
    return int(max_length)

