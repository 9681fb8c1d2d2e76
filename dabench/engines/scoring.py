"""Log-likelihood of continuations with a causal LM, sharing each context across its choices.

A multi-choice example asks for log p(continuation | context) for every choice (13 for
ChemProt). Scoring each (context + choice) sequence on its own, as lm-eval does, runs the
context through the model once per choice. Here the context runs once:

1. **contexts**: a batch of contexts, left-padded, with explicit position ids and a KV
   cache; only the last position's logits are computed. They give every choice's first
   token.
2. **continuations**: each (example, choice) row feeds ``choice[:-1]`` after its example's
   cached keys/values (the cache rows are gathered, not recomputed), with positions that
   continue the context, and gives the remaining tokens' log-probs.

A choice of one token needs no second pass at all. Both passes are batched with at most
``batch_size`` sequences per forward call. The numbers are the same sums of log-softmax
values as a full forward over context + continuation (to float rounding, ~1e-6 in
float32). Requests whose context + continuation exceeds the model's window are scored the
lm-eval way (one full sequence per choice, cut from the left), because then the choices no
longer share a prefix.
"""

from __future__ import annotations

import copy
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
    greedy: list[list[bool]] | None = None,
) -> list[list[float]]:
    """Summed log-probability of each continuation of each request (see module doc).

    When ``greedy`` is a list, it is filled with one flag per continuation: whether every
    continuation token is the model's argmax (lm-eval's ``is_greedy``).
    """
    out: list[list[float]] = [[0.0] * len(r.continuations) for r in requests]
    if greedy is not None:
        greedy[:] = [[True] * len(r.continuations) for r in requests]
    else:
        greedy = [[True] * len(r.continuations) for r in requests]
    shared: list[int] = []
    full: list[int] = []
    for i, r in enumerate(requests):
        fits = all(len(r.context) + len(c) <= max_length + 1 for c in r.continuations)
        (shared if shared_prefix and fits and len(r.context) > 0 else full).append(i)
    if shared:
        _score_shared(model, requests, shared, out, greedy, batch_size=batch_size, pad_id=pad_id, device=device, progress=progress)
    if full:
        _score_full(model, requests, full, out, greedy, batch_size=batch_size, max_length=max_length, pad_id=pad_id,
                    device=device, progress=progress)
    return out


# -- shared prefix -------------------------------------------------------------------------
@torch.inference_mode()
def _score_shared(
    model: Any,
    requests: Sequence[EncodedRequest],
    indices: Sequence[int],
    out: list[list[float]],
    greedy: list[list[bool]],
    *,
    batch_size: int,
    pad_id: int,
    device: torch.device,
    progress: ProgressFn | None,
) -> None:
    """Fill ``out``/``greedy`` for ``indices``: each context once (KV cache), then its continuations."""
    order = sorted(indices, key=lambda i: -len(requests[i].context))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        ctxs = [requests[i].context for i in batch]
        width = max(len(c) for c in ctxs)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, c in enumerate(ctxs):
            ids[b, width - len(c):] = torch.tensor(c, dtype=torch.long)
            mask[b, width - len(c):] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        res = _last_position(model, ids, mask, positions)
        first = torch.log_softmax(res.logits[:, -1, :].float(), dim=-1)  # (B, V)
        cache = res.past_key_values
        del res

        # every choice's first token, gathered in one indexing op (one device sync per batch)
        k_max = max(len(requests[i].continuations) for i in batch)
        first_ids = torch.zeros((len(batch), k_max), dtype=torch.long)
        for b, i in enumerate(batch):
            first_ids[b, : len(requests[i].continuations)] = torch.tensor([c[0] for c in requests[i].continuations])
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
        for rs in range(0, len(rows), batch_size):
            chunk = rows[rs:rs + batch_size]
            n_in = max(len(c) - 1 for _, _, c in chunk)
            cids = torch.full((len(chunk), n_in), pad_id, dtype=torch.long)
            targets = torch.zeros((len(chunk), n_in), dtype=torch.long)
            cmask = torch.zeros((len(chunk), n_in), dtype=torch.long)
            for k, (_, _, c) in enumerate(chunk):
                cids[k, : len(c) - 1] = torch.tensor(c[:-1], dtype=torch.long)
                targets[k, : len(c) - 1] = torch.tensor(c[1:], dtype=torch.long)
                cmask[k, : len(c) - 1] = 1
            sel = torch.tensor([b for b, _, _ in chunk], device=device)
            cids, cmask, targets = cids.to(device), cmask.to(device), targets.to(device)
            full_mask = torch.cat([mask[sel], cmask], dim=1)
            pos = ctx_lens[sel][:, None] + torch.arange(n_in, device=device)[None, :]
            logits = model(input_ids=cids, attention_mask=full_mask, position_ids=pos,
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
        if progress:
            progress(len(batch))


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


# -- one sequence per continuation (lm-eval's way) -------------------------------------------
@torch.inference_mode()
def _score_full(
    model: Any,
    requests: Sequence[EncodedRequest],
    indices: Sequence[int],
    out: list[list[float]],
    greedy: list[list[bool]],
    *,
    batch_size: int,
    max_length: int,
    pad_id: int,
    device: torch.device,
    progress: ProgressFn | None,
) -> None:
    """Fill ``out``/``greedy`` for ``indices``: one sequence per continuation, cut from the left."""
    flat: list[tuple[int, int, list[int], int]] = []  # (request, choice, tokens, n_continuation)
    for i in indices:
        r = requests[i]
        for j, c in enumerate(r.continuations):
            flat.append((i, j, (r.context + c)[-(max_length + 1):], len(c)))
    remaining = {i: len(requests[i].continuations) for i in indices}
    flat.sort(key=lambda x: -len(x[2]))
    for start in range(0, len(flat), batch_size):
        batch = flat[start:start + batch_size]
        inputs = [toks[:-1] for _, _, toks, _ in batch]
        width = max(len(x) for x in inputs)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for k, x in enumerate(inputs):
            ids[k, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[k, : len(x)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        # the scored positions of row k: [len(toks) - 1 - n, len(toks) - 1)
        n_max = max(n for _, _, _, n in batch)
        pos = torch.zeros((len(batch), n_max), dtype=torch.long)
        targets = torch.zeros((len(batch), n_max), dtype=torch.long)
        on = torch.zeros((len(batch), n_max), dtype=torch.bool)
        for k, (_, _, toks, n) in enumerate(batch):
            length = len(toks) - 1
            pos[k, :n] = torch.arange(length - n, length)
            targets[k, :n] = torch.tensor(toks[-n:], dtype=torch.long)
            on[k, :n] = True
        pos, targets, on = pos.to(device), targets.to(device), on.to(device)
        rows = logits.gather(1, pos[..., None].expand(-1, -1, logits.shape[-1])).float()  # (B, n_max, V)
        lp = rows.gather(2, targets[..., None]).squeeze(-1) - torch.logsumexp(rows, dim=-1)
        sums = (lp * on).sum(1).tolist()
        hits = ((rows.argmax(-1) == targets) | ~on).all(1).tolist()
        del logits, rows, lp
        done = 0
        for (i, j, _, _), total, hit in zip(batch, sums, hits):
            out[i][j] = total
            greedy[i][j] = bool(hit)
            remaining[i] -= 1
            done += remaining[i] == 0
        if progress and done:
            progress(done)
