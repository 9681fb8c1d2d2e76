"""Turning (context, continuation) strings into token ids exactly as lm-evaluation-harness does
(``TemplateLM.loglikelihood`` and ``HFLM.tok_encode``), so that scores are comparable with its:

- trailing whitespace of the context moves to the front of the continuation;
- the continuation is what follows the context's tokens in the encoding of context +
  continuation (the tokenizer's special-token default, unless ``add_bos_token``);
- an empty context conditions on the prefix token (BOS, else EOS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from dabench.engines.base import ScoreRequest


@dataclass(frozen=True)
class EncodedRequest:
    """Context token ids and one token-id list per continuation."""

    context: list[int]
    continuations: list[list[int]]


class LMEncoder:
    """lm-eval-compatible encoding for one tokenizer."""

    def __init__(self, tokenizer: Any, *, add_bos_token: bool | None = None, prefix_token_id: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.add_bos_token = add_bos_token
        if prefix_token_id is None:
            prefix_token_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        self.prefix_token_id = prefix_token_id
        self._bos_text = tokenizer.decode(prefix_token_id) if prefix_token_id is not None else None

    def encode(self, text: str, add_special_tokens: bool | None = None) -> list[int]:
        """``HFLM.tok_encode``: the tokenizer's default for special tokens unless told otherwise."""
        special = add_special_tokens
        if special is None:  # a text that starts with the prefix token's text gets no second one
            special = False if self._bos_text and text.startswith(self._bos_text) else self.add_bos_token
        kwargs = {} if special is None else {"add_special_tokens": special}
        return list(self.tokenizer.encode(text, **kwargs))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(context ids, continuation ids) for one pair, as lm-eval computes them."""
        if context == "":
            cont = self.encode(continuation, add_special_tokens=False)
            if cont and cont[0] == self.prefix_token_id:
                return cont[:1], cont[1:]
            return [self.prefix_token_id], cont
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.encode(context + continuation)
        ctx = self.encode(context)
        return ctx, whole[len(ctx):]

    def encode_request(self, context: str, continuations: Sequence[str]) -> EncodedRequest:
        """Encode every continuation of one request; they share the context's ids."""
        ctx: list[int] | None = None
        conts: list[list[int]] = []
        for cont in continuations:
            c, ids = self.encode_pair(context, cont)
            if not ids:
                raise ValueError(f"continuation {cont!r} encodes to no tokens after context {context[-40:]!r}")
            if ctx is None:
                ctx = c
            elif c != ctx:  # cannot happen with the rules above; kept as a guard for exotic tokenizers
                raise ValueError("continuations of one request encode to different context tokens")
            conts.append(ids)
        return EncodedRequest(ctx or [], conts)

    def scored_prompts(self, requests: Sequence[ScoreRequest], max_length: int) -> list[tuple[int, int, list[int], int]]:
        """(request, choice, prompt ids, continuation length) per choice of ``requests``,
        for a server that scores a prompt's own tokens. A prompt leaves room for the one generated
        token: requests that fit agree with the hf engine exactly; longer ones are cut from the left
        to ``max_length - 1`` tokens (the hf engine, like lm-eval, keeps ``max_length + 1``)."""
        flat = []
        for r, req in enumerate(requests):
            enc = self.encode_request(req.context, req.continuations)
            for c, cont in enumerate(enc.continuations):
                flat.append((r, c, (enc.context + cont)[-(max_length - 1):], len(cont)))
        return flat
