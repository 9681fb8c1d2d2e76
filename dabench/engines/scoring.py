"""Log-likelihood of continuations with a causal LM, running each context once for all its choices.

1. **contexts**: a left-padded batch with a KV cache; the last position's logits give every
   choice's first token.
2. **continuations**: each (example, choice) row feeds ``choice[:-1]`` after its example's
   cached keys/values (gathered, not recomputed) and gives the remaining tokens' log-probs.

The sums equal a full forward over context + continuation (to ~1e-6 in float32). Requests too
long for the model's window are scored the lm-eval way: one sequence per choice, cut from the left.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from dabench.engines.base import ProgressFn
from dabench.engines.tokens import EncodedRequest


def score_requests(
    model: Any,
    requests: Sequence[EncodedRequest],
    *,
    batch_size: int,
    max_length: int,
    pad_id: int,
    device: torch.device,
    shared_prefix: bool = True,
    progress: ProgressFn | None = None,
) -> list[list[tuple[float, bool]]]:
    """Summed log-probability of each continuation of each request (see module doc), with
    whether every continuation token is the model's argmax (lm-eval's ``is_greedy``)."""
    scorer = _Scorer(model, requests, batch_size, max_length, pad_id, device, progress)
    shared: list[int] = []
    full: list[int] = []
    for i, r in enumerate(requests):
        fits = all(len(r.context) + len(c) <= max_length + 1 for c in r.continuations)
        (shared if shared_prefix and fits and len(r.context) > 0 else full).append(i)
    if shared:
        scorer.shared(shared)
    if full:
        scorer.full(full)
    return [list(zip(s, g)) for s, g in zip(scorer.out, scorer.greedy)]


def padded(seqs: Sequence[Sequence[int]], pad_id: int, *, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask of ``seqs`` padded to one width, on the left or the right."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for k, s in enumerate(seqs):
        at = slice(width - len(s), width) if left else slice(0, len(s))
        ids[k, at] = torch.tensor(s, dtype=torch.long)
        mask[k, at] = 1
    return ids, mask


@dataclass
class _Scorer:
    """One :func:`score_requests` call: the requests, and the scores and greedy flags it fills."""

    model: Any
    requests: Sequence[EncodedRequest]
    batch_size: int
    max_length: int
    pad_id: int
    device: torch.device
    progress: ProgressFn | None
    out: list[list[float]] = field(init=False)
    greedy: list[list[bool]] = field(init=False)

    def __post_init__(self) -> None:
        self.out = [[0.0] * len(r.continuations) for r in self.requests]
        self.greedy = [[True] * len(r.continuations) for r in self.requests]

    # -- shared prefix -------------------------------------------------------------------------
    @torch.inference_mode()
    def shared(self, indices: Sequence[int]) -> None:
        """Score ``indices``: each context once (KV cache), then its continuations."""
        requests, device, out, greedy = self.requests, self.device, self.out, self.greedy
        order = sorted(indices, key=lambda i: -len(requests[i].context))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            ids, mask = padded([requests[i].context for i in batch], self.pad_id, left=True)
            ids, mask = ids.to(device), mask.to(device)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            res = _last_position(self.model, ids, mask, positions)
            first = torch.log_softmax(res.logits[:, -1, :].float(), dim=-1)  # (B, V)
            cache = res.past_key_values
            del res

            # every choice's first token, gathered in one indexing op (one device sync per batch)
            first_ids, _ = padded([[c[0] for c in requests[i].continuations] for i in batch], 0, left=False)
            first_ids = first_ids.to(device)
            first_lp = first.gather(1, first_ids).tolist()
            first_top = (first.argmax(-1, keepdim=True) == first_ids).tolist()
            del first
            rows: list[tuple[int, int, list[int]]] = []  # (batch row, choice, continuation ids)
            for b, i in enumerate(batch):
                for j, c in enumerate(requests[i].continuations):
                    out[i][j] = first_lp[b][j]
                    greedy[i][j] = bool(first_top[b][j])
                    if len(c) > 1:
                        rows.append((b, j, c))
            rows.sort(key=lambda x: -len(x[2]))
            ctx_lens = mask.sum(-1)
            for rs in range(0, len(rows), self.batch_size):
                chunk = rows[rs:rs + self.batch_size]
                cids, cmask = padded([c[:-1] for _, _, c in chunk], self.pad_id, left=False)
                targets, _ = padded([c[1:] for _, _, c in chunk], 0, left=False)
                n_in = cids.shape[1]
                sel = torch.tensor([b for b, _, _ in chunk], device=device)
                cids, cmask, targets = cids.to(device), cmask.to(device), targets.to(device)
                full_mask = torch.cat([mask[sel], cmask], dim=1)
                pos = ctx_lens[sel][:, None] + torch.arange(n_in, device=device)[None, :]
                logits = self.model(input_ids=cids, attention_mask=full_mask, position_ids=pos,
                                    past_key_values=_select_cache(cache, sel), use_cache=True).logits.float()
                # log-softmax at the targets only: x_t - logsumexp(x)
                lp = logits.gather(2, targets[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
                on = cmask.bool()
                sums = (lp * on).sum(1).tolist()
                hits = ((logits.argmax(-1) == targets) | ~on).all(1).tolist()
                del logits, lp
                for (b, j, _), add, hit in zip(chunk, sums, hits):
                    i = batch[b]
                    out[i][j] += add
                    greedy[i][j] = greedy[i][j] and bool(hit)
            if self.progress:
                self.progress(len(batch))

    # -- one sequence per continuation (lm-eval's way) ---------------------------------------
    @torch.inference_mode()
    def full(self, indices: Sequence[int]) -> None:
        """Score ``indices``: one sequence per continuation, cut from the left."""
        flat: list[tuple[int, int, list[int], int]] = []  # (request, choice, tokens, n_continuation)
        for i in indices:
            r = self.requests[i]
            for j, c in enumerate(r.continuations):
                flat.append((i, j, (r.context + c)[-(self.max_length + 1):], len(c)))
        remaining = {i: len(self.requests[i].continuations) for i in indices}
        flat.sort(key=lambda x: -len(x[2]))
        device = self.device
        for start in range(0, len(flat), self.batch_size):
            batch = flat[start:start + self.batch_size]
            ids, mask = padded([toks[:-1] for _, _, toks, _ in batch], self.pad_id, left=False)
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            # the scored positions of row k: [len(toks) - 1 - n, len(toks) - 1)
            pos, _ = padded([list(range(len(toks) - 1 - n, len(toks) - 1)) for _, _, toks, n in batch], 0, left=False)
            targets, on = padded([toks[-n:] for _, _, toks, n in batch], 0, left=False)
            pos, targets, on = pos.to(device), targets.to(device), on.bool().to(device)
            rows = logits.gather(1, pos[..., None].expand(-1, -1, logits.shape[-1])).float()  # (B, n_max, V)
            lp = rows.gather(2, targets[..., None]).squeeze(-1) - torch.logsumexp(rows, dim=-1)
            sums = (lp * on).sum(1).tolist()
            hits = ((rows.argmax(-1) == targets) | ~on).all(1).tolist()
            del logits, rows, lp
            done = 0
            for (i, j, _, _), total, hit in zip(batch, sums, hits):
                self.out[i][j] = total
                self.greedy[i][j] = bool(hit)
                remaining[i] -= 1
                done += remaining[i] == 0
            if self.progress and done:
                self.progress(done)


def _last_position(model: Any, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> Any:
    """Forward with a KV cache, computing logits for the last position only when the model can."""
    kwargs = dict(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    if getattr(model, "_dabench_no_logits_to_keep", False):
        return model(**kwargs)
    try:
        return model(**kwargs, logits_to_keep=1)
    except TypeError:  # older or custom models without logits_to_keep
        model._dabench_no_logits_to_keep = True
        return model(**kwargs)


def _select_cache(cache: Any, rows: torch.Tensor) -> Any:
    """A copy of ``cache`` holding the given batch rows; the original stays usable."""
    new = copy.copy(cache)
    layers = getattr(cache, "layers", None)
    if layers is not None:
        new.layers = [copy.copy(layer) for layer in layers]
        for layer in new.layers:
            if getattr(layer, "keys", None) is not None and layer.keys.numel():
                layer.keys = layer.keys.index_select(0, rows)
                layer.values = layer.values.index_select(0, rows)
        return new
    if isinstance(cache, tuple):  # legacy tuple-of-tuples format (transformers < 4.45 models)
        return tuple(tuple(t.index_select(0, rows) for t in layer) for layer in cache)
    new.batch_select_indices(rows)
    return new
