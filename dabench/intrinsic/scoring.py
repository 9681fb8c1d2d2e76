"""Per-document negative log-likelihoods: perplexity (causal LMs) and pseudo-perplexity (masked LMs).

- Causal LM: every token of a document is scored given the tokens before it, with the
  tokenizer's BOS token as the first context when it has one (otherwise the first token is
  context only). Documents longer than the window are scored with overlapping windows
  (``stride`` new tokens each), every token exactly once.
- Masked LM: pseudo-log-likelihood (Salazar et al. 2020, "Masked Language Model Scoring"):
  each non-special token is replaced by the mask token in turn and scored by the model given
  all other tokens; PPPL = exp(−Σ log P / N). Documents are truncated to the window.

Only the masked position's logits go through the LM head (a full head costs as much as the
encoder for a 30k vocabulary), when the architecture exposes its head (BERT ``cls``,
RoBERTa ``lm_head``); otherwise the whole model runs and the position is picked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from dabench.errors import CheckpointError

Advance = Callable[[int], None]

_MLM_SUFFIXES = ("ForMaskedLM", "ForPreTraining")
_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


@dataclass(frozen=True)
class DocScore:
    """Summed NLL (nats) of one document, the number of tokens scored and its UTF-8 bytes."""

    nll: float
    tokens: int
    bytes: int


def measure_of(config: Any, where: str) -> str:
    """``pseudo_perplexity`` or ``perplexity`` from a config's architectures; an error when the
    checkpoint has no trained LM head (e.g. a bare ``BertModel`` encoder)."""
    archs = list(getattr(config, "architectures", None) or [])
    if any(a.endswith(_MLM_SUFFIXES) for a in archs):
        return "pseudo_perplexity"
    if any(a.endswith(_CAUSAL_SUFFIXES) for a in archs):
        return "perplexity"
    raise CheckpointError(
        f"{where}: has no language-modelling head (architectures: {', '.join(archs) or 'none'}); "
        "(pseudo-)perplexity needs a checkpoint saved with its trained MLM or causal-LM head"
    )


def _batches(order: Sequence[int], lengths: Sequence[int], max_tokens: int, max_rows: int) -> Iterator[list[int]]:
    """Consecutive groups of ``order`` with at most ``max_rows`` rows and ``max_tokens`` padded tokens."""
    group: list[int] = []
    width = 0
    for i in order:
        w = max(width, lengths[i])
        if group and (len(group) + 1 > max_rows or w * (len(group) + 1) > max_tokens):
            yield group
            group, w = [], lengths[i]
        group.append(i)
        width = w
    if group:
        yield group


def _pad(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[j, : len(r)] = 1
    return ids.to(device), mask.to(device)


# ------------------------------------------------------------------------------ causal


def causal_windows(n: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """``(begin, end, first_scored)`` windows over token positions ``0..n-1``: position 0 is context
    only, every later position is scored exactly once, with up to ``max_length`` tokens of context."""
    out = []
    prev_end = 1
    begin = 0
    while prev_end < n:
        end = min(begin + max_length, n)
        out.append((begin, end, prev_end))
        prev_end = end
        begin = max(0, end - (max_length - stride))
    return out


@torch.no_grad()
def causal_nll(
    model: Any, tokenizer: Any, texts: Sequence[str], *, max_length: int, stride: int | None = None,
    batch_tokens: int = 8192, device: torch.device | None = None, progress: Advance | None = None,
) -> list[DocScore]:
    """Summed NLL of every document under a causal LM (see module docstring)."""
    device = device or next(model.parameters()).device
    stride = stride or max(1, max_length // 2)
    bos = tokenizer.bos_token_id
    rows: list[list[int]] = []
    owners: list[tuple[int, int]] = []  # (doc, first scored position within the row)
    for d, text in enumerate(texts):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if bos is not None:
            ids = [bos] + ids
        for begin, end, first in causal_windows(len(ids), max_length, stride):
            rows.append(ids[begin:end])
            owners.append((d, first - begin))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
    tally = _Tally([o[0] for o in owners], len(texts), progress)
    model.eval()
    for group in _batches(order, [len(r) for r in rows], batch_tokens, 256):
        ids, mask = _pad([rows[i] for i in group], pad, device)
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
        for j, i in enumerate(group):
            d, first = owners[i]
            n = len(rows[i])
            tally.nll[d] -= float(logp[j, first - 1 : n - 1].double().sum())
            tally.count[d] += n - first
        tally.done(owners[i][0] for i in group)
    return tally.scores(texts)


class _Tally:
    """Summed NLL and scored tokens per document, given the document of each row; advances a
    progress bar by whole documents as their last row is scored."""

    def __init__(self, owners: Sequence[int], n_docs: int, progress: Advance | None) -> None:
        self.nll = np.zeros(n_docs)
        self.count = np.zeros(n_docs, dtype=np.int64)
        self.left = np.bincount(np.asarray(owners, dtype=np.int64), minlength=n_docs)
        self.progress = progress
        self.reported = int(np.count_nonzero(self.left == 0))
        self.n = n_docs
        if progress is not None and self.reported:
            progress(self.reported)

    def done(self, docs: Any) -> None:
        for d in docs:
            self.left[d] -= 1
        finished = int(np.count_nonzero(self.left == 0))
        if self.progress is not None and finished > self.reported:
            self.progress(finished - self.reported)
        self.reported = finished

    def scores(self, texts: Sequence[str]) -> list[DocScore]:
        """The documents' scores (the progress bar completed)."""
        if self.progress is not None and self.reported < self.n:
            self.progress(self.n - self.reported)
        return [DocScore(float(self.nll[d]), int(self.count[d]), len(t.encode("utf-8"))) for d, t in enumerate(texts)]


# ------------------------------------------------------------------------------ masked


def _mlm_parts(model: Any) -> tuple[Any, Any] | None:
    """(encoder, head) of a masked LM whose head maps hidden states to vocabulary logits."""
    prefix = getattr(model, "base_model_prefix", "")
    encoder = getattr(model, prefix, None) if prefix else None
    if encoder is None:
        return None
    for attr in ("cls", "lm_head"):
        head = getattr(model, attr, None)
        if head is not None:
            return encoder, head
    return None


@torch.no_grad()
def pseudo_nll(
    model: Any, tokenizer: Any, texts: Sequence[str], *, max_length: int, batch_tokens: int = 8192,
    device: torch.device | None = None, progress: Advance | None = None,
) -> list[DocScore]:
    """Pseudo-log-likelihood NLL of every document under a masked LM (see module docstring)."""
    device = device or next(model.parameters()).device
    mask_id = tokenizer.mask_token_id
    if mask_id is None:
        raise CheckpointError("pseudo-perplexity needs a tokenizer with a mask token")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    parts = _mlm_parts(model)
    encoded = [tokenizer(t, truncation=True, max_length=max_length) for t in texts]
    order = sorted(range(len(texts)), key=lambda d: -len(encoded[d]["input_ids"]))
    model.eval()
    # rows: one masked copy per scored position; grouped across documents of similar length
    rows: list[tuple[int, int]] = []  # (doc, position)
    for d in order:
        ids = encoded[d]["input_ids"]
        special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
        rows.extend((d, p) for p, s in enumerate(special) if not s)
    lengths = [len(encoded[d]["input_ids"]) for d, _ in rows]
    tally = _Tally([d for d, _ in rows], len(texts), progress)
    for group in _batches(range(len(rows)), lengths, batch_tokens, 512):
        picked = [rows[i] for i in group]
        seqs = [[mask_id if k == p else t for k, t in enumerate(encoded[d]["input_ids"])] for d, p in picked]
        targets = [encoded[d]["input_ids"][p] for d, p in picked]
        tts = [encoded[d].get("token_type_ids") for d, _ in picked]
        ids_t, att = _pad(seqs, pad, device)
        kwargs = {"input_ids": ids_t, "attention_mask": att}
        if tts[0] is not None:
            kwargs["token_type_ids"] = _pad(tts, 0, device)[0]
        rows_idx = torch.arange(len(group), device=device)
        pos_t = torch.tensor([p for _, p in picked], device=device)
        if parts is not None:
            encoder, head = parts
            logits = head(encoder(**kwargs).last_hidden_state[rows_idx, pos_t])
        else:
            logits = model(**kwargs).logits[rows_idx, pos_t]
        logp = torch.log_softmax(logits.float(), dim=-1)[rows_idx, torch.tensor(targets, device=device)]
        for j, (d, _) in enumerate(picked):
            tally.nll[d] -= float(logp[j].double())
            tally.count[d] += 1
        tally.done(d for d, _ in picked)
    return tally.scores(texts)
