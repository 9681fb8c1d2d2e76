"""The one training loop of the tests: a few steps so a tiny model's predictions are not uniform."""

from __future__ import annotations

from typing import Any

import torch

#: share of tokens masked by a masked-LM step
MASK_SHARE = 0.15


def train(model: Any, tok: Any, texts: list[str], *, steps: int, seed: int, batch_size: int = 16,
          lr: float = 3e-3, mlm: bool = False) -> None:
    """``steps`` AdamW steps over ``texts`` in order (wrapping around), on the parameters that
    require gradients; then the model is put in eval mode.

    Causal LM (``mlm`` false): ``seed`` seeds torch's global generator (dropout). Masked LM:
    ``seed`` seeds only the generator of the masks, and dropout continues from the global
    generator as the model's initialisation left it (as the BERT pair was first built)."""
    masks = torch.Generator().manual_seed(seed)
    if not mlm:
        torch.manual_seed(seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for step in range(steps):
        batch = [texts[(step * batch_size + i) % len(texts)] for i in range(batch_size)]
        enc = tok(batch, return_tensors="pt", padding=True, truncation=True, max_length=64)
        if mlm:
            labels = _mask(enc, tok, masks)
        else:
            labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        model(**enc, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


def _mask(enc: Any, tok: Any, generator: torch.Generator) -> torch.Tensor:
    """Mask ``MASK_SHARE`` of the non-special tokens of ``enc`` in place; the labels of the masked ones."""
    ids = enc["input_ids"].clone()
    special = torch.tensor([tok.get_special_tokens_mask(r, already_has_special_tokens=True) for r in ids.tolist()]).bool()
    pick = (torch.rand(ids.shape, generator=generator) < MASK_SHARE) & ~special & enc["attention_mask"].bool()
    enc["input_ids"] = torch.where(pick, torch.full_like(ids, tok.mask_token_id), ids)
    return torch.where(pick, ids, torch.full_like(ids, -100))
