"""The ``hf`` engine: transformers models on CPU or CUDA, every checkpoint kind of
:mod:`dabench.engines.checkpoints`. Scoring agrees with lm-eval's ``hf`` model token for token
(:mod:`dabench.engines.tokens`), running each context once for all its choices
(:mod:`dabench.engines.scoring`).
"""

from __future__ import annotations

import contextlib
from typing import Any, Final, Self, Sequence

import torch

from dabench.engines import checkpoints as ckpts
from dabench.engines.base import ProgressFn, ScoreRequest
from dabench.engines.scoring import padded, score_requests
from dabench.engines.tokens import LMEncoder
from dabench.errors import CheckpointError

_DEFAULT_MAX_LENGTH = 2048
_TOKENIZER_INFINITY = 1000000000000000019884624838656


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def dtype_name(dtype: str | None) -> str:
    """``--dtype`` checked; None is ``auto``."""
    if dtype not in (None, "auto", "float32", "bfloat16", "float16"):
        raise CheckpointError(f"--dtype must be auto, float32, bfloat16 or float16, not {dtype!r}")
    return dtype or "auto"


def resolve_dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA that supports it, else float32."""
    name = dtype_name(dtype)
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def adapter_off(model: Any, adapter_on: bool) -> contextlib.AbstractContextManager[Any]:
    """A PEFT model's adapter switched off while in the block, unless ``adapter_on``."""
    if adapter_on or not hasattr(model, "disable_adapter"):
        return contextlib.nullcontext()
    return model.disable_adapter()


def model_max_length(config: Any, tokenizer: Any) -> int:
    """The context window, found as lm-eval finds it."""
    cfg = getattr(config, "text_config", None) or config
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(cfg, attr, None)
        if value is not None:
            return int(value)
    mml = getattr(tokenizer, "model_max_length", None)
    if mml is not None and mml != _TOKENIZER_INFINITY:
        return int(mml)
    return _DEFAULT_MAX_LENGTH


class TransformersEngine(ckpts.Fingerprinted):
    """What both hf engines share: the checkpoint's tokenizer, and its model loaded as
    ``auto_class`` on a device; for a PEFT adapter, :meth:`base_view` switches the adapter off."""

    auto_class = "AutoModelForCausalLM"

    def __init__(
        self,
        name: str,
        *,
        device: str | None = None,
        dtype: str | None = "auto",
        batch_size: int = 16,
        trust_remote_code: bool = False,
        arch: str | None = None,
        adapter_base: str | None = None,
        ckpt_prefix: str | None = None,
        allow_pickle: bool = False,
        resolved: ckpts.Checkpoint | None = None,
        **_ignored: Any,
    ) -> None:
        import transformers
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.name = name
        self.checkpoint = resolved or ckpts.resolve(name, arch=arch, adapter_base=adapter_base, prefix=ckpt_prefix)
        self.device = pick_device(device)
        self.batch_size = max(1, int(batch_size))
        self.adapter_on = True
        self._trust_remote_code = trust_remote_code
        self.tokenizer = ckpts.load_tokenizer(self.checkpoint, trust_remote_code=trust_remote_code)
        self.model = ckpts.load_model(self.checkpoint, getattr(transformers, self.auto_class),
                                      dtype=resolve_dtype(dtype, self.device), trust_remote_code=trust_remote_code,
                                      allow_pickle=allow_pickle)
        self.model.to(self.device).eval()

    def base_view(self, name: str | None = None) -> Self:
        """The adapter's base model on the same loaded weights, adapter switched off."""
        view = self._base_copy(name)
        view.adapter_on = False
        return view


class HFEngine(TransformersEngine):
    """A causal LM loaded with transformers (optionally with a PEFT adapter)."""

    kind: Final = "lm"

    def __init__(self, name: str, *, max_length: int | None = None, add_bos_token: bool | None = None,
                 shared_prefix: bool = True, **options: Any) -> None:
        super().__init__(name, **options)
        self.shared_prefix = shared_prefix
        self._add_bos_token = add_bos_token
        self.max_length = max_length or model_max_length(self.model.config, self.tokenizer)
        self._use_tokenizer(self.tokenizer)

    def _use_tokenizer(self, tokenizer: Any) -> None:
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        self.tokenizer = tokenizer
        self.encoder = LMEncoder(tokenizer, add_bos_token=self._add_bos_token)
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def base_view(self, name: str | None = None) -> Self:
        """The adapter's base on the same weights, adapter off (with the base's tokenizer when it differs)."""
        view = super().base_view(name)
        if self.checkpoint.tokenizer_source() != view.checkpoint.tokenizer_source():
            view._use_tokenizer(ckpts.load_tokenizer(view.checkpoint, trust_remote_code=self._trust_remote_code))
        return view

    # -- scoring ----------------------------------------------------------------------------
    def loglikelihood(
        self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None
    ) -> list[list[float]]:
        return [[s for s, _ in row] for row in self.loglikelihood_greedy(requests, progress)]

    def loglikelihood_greedy(
        self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None
    ) -> list[list[tuple[float, bool]]]:
        """Like :meth:`loglikelihood`, with lm-eval's ``is_greedy`` flag per continuation."""
        encoded = [self.encoder.encode_request(r.context, r.continuations) for r in requests]
        with adapter_off(self.model, self.adapter_on):
            return score_requests(self.model, encoded, batch_size=self.batch_size, max_length=self.max_length,
                                  pad_id=self._pad_id, device=self.device, shared_prefix=self.shared_prefix,
                                  progress=progress)

    # -- generation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 32,
        progress: ProgressFn | None = None,
    ) -> list[str]:
        """Greedy continuations, cut at the first stop sequence; prompts encoded as lm-eval's
        ``generate_until`` does (cut from the left to ``max_length - max_new_tokens``)."""
        keep = max(1, self.max_length - max_new_tokens)
        encoded = [self.encoder.encode(p)[-keep:] or [self.encoder.prefix_token_id] for p in prompts]
        outputs: list[str] = [""] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        with adapter_off(self.model, self.adapter_on):
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                ids, mask = padded([encoded[i] for i in idx], self._pad_id, left=True)
                gen = self.model.generate(
                    input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                    max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=self._pad_id,
                )
                for i, row in zip(idx, gen[:, ids.shape[1]:]):
                    outputs[i] = cut_at_stop(self.tokenizer.decode(row, skip_special_tokens=True), stop)
                if progress:
                    progress(len(idx))
        return outputs


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Text up to the earliest stop sequence, without a trailing half-decoded character
    (U+FFFD from a multi-byte character cut by max_new_tokens; vLLM holds such bytes back)."""
    text = text.rstrip("\ufffd")
    return text[:min((text.find(s) for s in stop if s and s in text), default=len(text))]
