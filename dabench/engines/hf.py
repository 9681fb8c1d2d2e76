"""The ``hf`` engine: transformers causal LMs on CPU or CUDA.

Scoring agrees with lm-evaluation-harness's ``hf`` model token for token (see
:mod:`dabench.engines.tokens`) and is faster on multi-choice tasks because each context is
run once for all its choices (see :mod:`dabench.engines.scoring`). Every checkpoint kind of
:mod:`dabench.engines.checkpoints` loads here; for a PEFT adapter, :meth:`HFEngine.base_view`
gives the base model on the same loaded weights with the adapter switched off, so a
base-vs-adapter comparison loads the base weights once.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final, Sequence

import torch

from dabench.engines import checkpoints as ckpts
from dabench.engines.base import ProgressFn, ScoreRequest
from dabench.engines.scoring import score_requests
from dabench.engines.tokens import LMEncoder
from dabench.errors import CheckpointError

_DEFAULT_MAX_LENGTH = 2048
_TOKENIZER_INFINITY = 1000000000000000019884624838656


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on CUDA that supports it, else float32."""
    if dtype in (None, "auto"):
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise CheckpointError(f"--dtype must be auto, float32, bfloat16 or float16, not {dtype!r}") from None


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


class HFEngine(ckpts.Fingerprinted):
    """A causal LM loaded with transformers (optionally with a PEFT adapter)."""

    kind: Final = "lm"

    def __init__(
        self,
        name: str,
        *,
        device: str | None = None,
        dtype: str | None = "auto",
        batch_size: int = 16,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        arch: str | None = None,
        adapter_base: str | None = None,
        ckpt_prefix: str | None = None,
        allow_pickle: bool = False,
        add_bos_token: bool | None = None,
        shared_prefix: bool = True,
        resolved: ckpts.Checkpoint | None = None,
        **_ignored: Any,
    ) -> None:
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        ck = resolved or ckpts.resolve(name, arch=arch, adapter_base=adapter_base, prefix=ckpt_prefix)
        dev = pick_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        tokenizer = ckpts.load_tokenizer(ck, trust_remote_code=trust_remote_code)
        model = ckpts.load_model(ck, AutoModelForCausalLM, dtype=torch_dtype, trust_remote_code=trust_remote_code,
                                 allow_pickle=allow_pickle)
        model.to(dev).eval()
        self._setup(name, ck, model, tokenizer, dev, batch_size=batch_size, max_length=max_length,
                    add_bos_token=add_bos_token, shared_prefix=shared_prefix, adapter_on=True,
                    trust_remote_code=trust_remote_code)

    def _setup(self, name: str, ck: ckpts.Checkpoint, model: Any, tokenizer: Any, device: torch.device, *,
               batch_size: int, max_length: int | None, add_bos_token: bool | None, shared_prefix: bool,
               adapter_on: bool, trust_remote_code: bool) -> None:
        self.name = name
        self.checkpoint = ck
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.shared_prefix = shared_prefix
        self.adapter_on = adapter_on
        self._trust_remote_code = trust_remote_code
        self._add_bos_token = add_bos_token
        self.max_length = max_length or model_max_length(model.config, tokenizer)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        self.encoder = LMEncoder(tokenizer, add_bos_token=add_bos_token)

    # -- sharing one load between an adapter and its base ---------------------------------------
    @property
    def has_adapter(self) -> bool:
        return self.checkpoint.kind == "adapter"

    def base_view(self, name: str | None = None) -> "HFEngine":
        """The adapter's base model on the same loaded weights, adapter switched off."""
        if not self.has_adapter:
            raise ValueError("base_view needs an engine loaded from a PEFT adapter")
        base_ck = self.checkpoint.base
        assert base_ck is not None
        view = object.__new__(HFEngine)
        tokenizer = self.tokenizer
        if self.checkpoint.tokenizer_source() != base_ck.tokenizer_source():
            tokenizer = ckpts.load_tokenizer(base_ck, trust_remote_code=self._trust_remote_code)
        view._setup(name or base_ck.spec, base_ck, self.model, tokenizer, self.device, batch_size=self.batch_size,
                    max_length=self.max_length, add_bos_token=self._add_bos_token, shared_prefix=self.shared_prefix,
                    adapter_on=False, trust_remote_code=self._trust_remote_code)
        return view

    def _adapter_context(self) -> contextlib.AbstractContextManager[Any]:
        if self.adapter_on or not hasattr(self.model, "disable_adapter"):
            return contextlib.nullcontext()
        return self.model.disable_adapter()

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
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        flags: list[list[bool]] = []
        with self._adapter_context():
            scores = score_requests(self.model, encoded, batch_size=self.batch_size, max_length=self.max_length,
                                    pad_id=pad, device=self.device, shared_prefix=self.shared_prefix,
                                    progress=progress, greedy=flags)
        return [list(zip(s, g)) for s, g in zip(scores, flags)]

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
        """Greedy continuations, cut at the first stop sequence.

        Prompts are encoded as lm-eval's ``generate_until`` encodes them (the tokenizer's
        special-token default, cut from the left to ``max_length - max_new_tokens``), in
        left-padded, length-sorted batches.
        """
        keep = max(1, self.max_length - max_new_tokens)
        encoded = [self.encoder.encode(p)[-keep:] or [self.encoder.prefix_token_id] for p in prompts]
        outputs: list[str] = [""] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        with self._adapter_context():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                width = max(len(encoded[i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for k, i in enumerate(idx):
                    ids[k, width - len(encoded[i]):] = torch.tensor(encoded[i], dtype=torch.long)
                    mask[k, width - len(encoded[i]):] = 1
                gen = self.model.generate(
                    input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                    max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad,
                )
                for i, row in zip(idx, gen[:, width:]):
                    outputs[i] = cut_at_stop(self.tokenizer.decode(row, skip_special_tokens=True), stop)
                if progress:
                    progress(len(idx))
        return outputs


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Text up to the earliest stop sequence, without a trailing half-decoded character
    (U+FFFD from a multi-byte character cut by max_new_tokens; vLLM holds such bytes back)."""
    text = text.rstrip("\ufffd")
    cut = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                cut = min(cut, pos)
    return text[:cut]
