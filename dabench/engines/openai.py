"""The ``openai`` engine: a model behind an OpenAI-compatible completions server (vLLM, SGLang,
TGI, hosted endpoints), scored exactly as the hf engine scores a local checkpoint.

- **Scoring** sends the hf engine's token ids (a local ``--tokenizer``, or the server's
  ``/tokenize``); the server echoes each prompt with its token log-probs (``echo`` +
  ``logprobs``, ``max_tokens: 0`` where allowed), summed over a choice's positions.
- **Probe**: a server that returns no prompt log-probs, or ones that do not fit the tokens, is
  refused at start: a multiple-choice task is never scored at chance level in silence.
- **Fingerprint**: the served model id, what the server reports of it, ``--model-revision``,
  and a canary (a few fixed prompts' log-probs, rounded to 0.1 nats), so another model behind
  the same name never shares records with the old one.
- **Faults** are retried by :mod:`dabench.engines.endpoint_client`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Final, Sequence

from dabench.engines.base import ProgressFn, ScoreRequest
from dabench.engines.endpoint_client import EndpointClient, EndpointError
from dabench.engines.hf import cut_at_stop
from dabench.engines.served import ServedModel
from dabench.engines.tokens import LMEncoder
from dabench.errors import CheckpointError

#: the probe's and the canary's texts (fixed: the fingerprint depends on them)
PROBE = "The capital of France is Paris, and the capital of Italy is Rome."
CANARY = (PROBE, "Aspirin irreversibly inhibits cyclooxygenase.", "1, 2, 3, 4, 5, 6, 7, 8")
#: the metadata of /v1/models that identifies a served model (``created`` changes at every start)
META_KEYS = ("id", "root", "parent", "max_model_len", "owned_by")


class RemoteTokenizer:
    """The server's tokenizer through vLLM's ``/tokenize`` and ``/detokenize`` (cached), without ``--tokenizer``."""

    def __init__(self, client: EndpointClient, model: str) -> None:
        self.client, self.model = client, model
        try:
            with_special = self.encode("", add_special_tokens=True)
        except EndpointError as exc:
            raise CheckpointError(f"{client.root}: the server has no usable /tokenize endpoint ({exc}); pass "
                                  "--tokenizer DIR (the served model's tokenizer) so dabench can send token ids") from None
        self.bos_token_id: int | None = with_special[0] if with_special else None
        self.eos_token_id: int | None = None

    @lru_cache(maxsize=65536)
    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        out = self.client.post("/tokenize", {"model": self.model, "prompt": text,
                                             "add_special_tokens": add_special_tokens}, root=True)
        return [int(t) for t in _field(out, "tokens", "/tokenize", self.client.root)]

    def decode(self, ids: int | Sequence[int]) -> str:
        tokens = [ids] if isinstance(ids, int) else list(ids)
        out = self.client.post("/detokenize", {"model": self.model, "tokens": tokens}, root=True)
        return str(_field(out, "prompt", "/detokenize", self.client.root))


def _field(answer: Any, key: str, path: str, root: str) -> Any:
    """``answer[key]``, or one line saying the server's answer is not what vLLM's endpoint returns."""
    if not isinstance(answer, dict) or key not in answer:
        raise CheckpointError(f"{root}{path}: an answer without '{key}'; pass --tokenizer DIR (the served model's "
                              "tokenizer) so dabench can send token ids")
    return answer[key]


class OpenAIEngine:
    """A causal LM served by an OpenAI-compatible completions endpoint."""

    kind: Final = "lm"

    def __init__(self, name: str, *, resolved: ServedModel | None = None, base_url: str | None = None,
                 tokenizer: str | None = None, api_key_env: str | None = None, max_concurrency: int = 8,
                 request_timeout: float = 120.0, max_retries: int = 6, model_revision: str | None = None,
                 batch_size: int | None = None, add_bos_token: bool | None = None, **_ignored: Any) -> None:
        served = resolved or ServedModel(name, base_url or "", tokenizer)
        if not served.url:
            raise CheckpointError(f"{name}: --engine openai needs --base-url (the server's URL, e.g. "
                                  "http://127.0.0.1:8000/v1)")
        self.name, self.served, self.model_revision = name, served, model_revision
        self.client = EndpointClient(served.url, api_key_env=api_key_env, timeout=request_timeout,
                                     max_retries=max_retries)
        self.batch_size = batch_size or 16
        self.max_concurrency = max(1, max_concurrency)
        self.meta = self._model_meta()
        if served.tokenizer:
            from transformers import AutoTokenizer

            self.tokenizer: Any = AutoTokenizer.from_pretrained(served.tokenizer)
        else:
            self.tokenizer = RemoteTokenizer(self.client, name)
        self.encoder = LMEncoder(self.tokenizer, add_bos_token=add_bos_token)
        self.max_length = int(self.meta.get("max_model_len") or 2048)
        self._echo_max_tokens = 0  # the prompt alone (vLLM): no decoding step per scored prompt
        try:
            probe = self._prompt_sums([self.encoder.encode(PROBE)], probe=True)  # alone: a refusal names the cause
        except EndpointError:  # a server that wants at least one generated token
            self._echo_max_tokens = 1
            probe = self._prompt_sums([self.encoder.encode(PROBE)], probe=True)
        rest = self._prompt_sums([self.encoder.encode(t) for t in CANARY[1:]], probe=True)
        self.canary = [round(s, 1) for s in probe + rest]
        self._fingerprint: str | None = None

    # -- server --------------------------------------------------------------------------------
    def _model_meta(self) -> dict[str, Any]:
        listing = self.client.get("/models")
        models = listing.get("data", []) if isinstance(listing, dict) else []
        by_id = {m.get("id"): m for m in models if isinstance(m, dict)}
        if self.name in by_id:
            meta = {k: by_id[self.name][k] for k in META_KEYS if k in by_id[self.name]}
            parent = by_id.get(meta.get("parent"))
            if meta.get("max_model_len") is None and parent:  # vLLM lists a LoRA's context length on its base
                meta["max_model_len"] = parent.get("max_model_len")
            return meta
        served = ", ".join(str(m.get("id")) for m in models if isinstance(m, dict)) or "none"
        raise CheckpointError(f"{self.client.base_url}: the server does not serve a model named {self.name!r} "
                              f"(it serves: {served})")

    def _completions(self, prompts: list[list[int]], **params: Any) -> list[dict[str, Any]]:
        """One request for several prompts; the choices in prompt order."""
        out = self.client.post("/completions", {"model": self.name, "prompt": prompts, "temperature": 0.0, **params})
        choices = out.get("choices") if isinstance(out, dict) else None
        if not isinstance(choices, list) or len(choices) != len(prompts):
            raise EndpointError(f"{self.client.base_url}: a completions answer with {len(choices or [])} choices "
                                f"for {len(prompts)} prompts")
        return sorted(choices, key=lambda c: int(c.get("index", 0)))

    def _prompt_logprobs(self, prompts: list[list[int]], probe: bool = False) -> list[list[float]]:
        """The log-probability of every prompt token after the first (the server echoes the prompt)."""
        out = []
        answer = self._completions(prompts, max_tokens=self._echo_max_tokens, echo=True, logprobs=1)
        for toks, choice in zip(prompts, answer):
            lp = (choice.get("logprobs") or {}).get("token_logprobs")
            ok = isinstance(lp, list) and len(lp) >= len(toks) and all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in lp[1:len(toks)])
            if not ok:
                what = ("no prompt log-probabilities" if not isinstance(lp, list) or len(lp) <= 1 else
                        f"{len(lp)} log-probabilities for a prompt of {len(toks)} tokens")
                raise CheckpointError(
                    f"{self.client.base_url} ({self.name}): the server returns {what} for completions with echo and "
                    "logprobs; dabench needs the log-probability of every prompt token to score choices and refuses "
                    "rather than score at chance — serve the model with a server that returns them (e.g. vLLM)"
                    if probe else f"{self.client.base_url} ({self.name}): an answer without prompt log-probabilities")
            assert isinstance(lp, list)
            out.append([float(v) for v in lp[1:len(toks)]])
        return out

    def _prompt_sums(self, prompts: list[list[int]], probe: bool = False) -> list[float]:
        return [sum(lp) for lp in self._prompt_logprobs(prompts, probe=probe)]

    # -- the engine interface ------------------------------------------------------------------
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            blob = json.dumps({"engine": "openai", "model": self.name, "meta": self.meta,
                               "revision": self.model_revision, "canary": self.canary}, sort_keys=True)
            self._fingerprint = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
        return self._fingerprint

    def base_view(self, name: str | None = None) -> "OpenAIEngine":
        raise ValueError("a served model's base is another served model name: pass it as BASE")

    def _batches(self, items: list[Any]) -> list[list[Any]]:
        return [items[i:i + self.batch_size] for i in range(0, len(items), self.batch_size)]

    def _map(self, fn: Any, batches: list[list[Any]], progress: ProgressFn | None, per_batch: list[int]) -> list[Any]:
        """``fn`` over the batches, ``max_concurrency`` requests at a time, results in order."""
        results: list[Any] = [None] * len(batches)
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, max(1, len(batches)))) as pool:
            futures = {pool.submit(fn, b): i for i, b in enumerate(batches)}
            for fut in futures:  # in submission order; each waits for its own answer
                i = futures[fut]
                results[i] = fut.result()
                if progress:
                    progress(per_batch[i])
        return results

    def loglikelihood(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None) -> list[list[float]]:
        """The summed log-probability of each continuation (the hf engine's tokens and boundary)."""
        flat = self.encoder.scored_prompts(requests, self.max_length)
        batches = self._batches(flat)
        # progress counts the requests whose last choice is in the batch
        last = Counter({r: i for i, b in enumerate(batches) for r, _, _, _ in b}.values())
        done = [last[i] for i in range(len(batches))]

        def score(batch: list[tuple[int, int, list[int], int]]) -> list[float]:
            lps = self._prompt_logprobs([t for _, _, t, _ in batch])
            # lps[k][j] is the log-prob of token j + 1: a continuation of n tokens ends the prompt
            return [sum(lp[len(t) - n - 1:len(t) - 1]) for (_, _, t, n), lp in zip(batch, lps)]

        out: list[list[float]] = [[0.0] * len(q.continuations) for q in requests]
        for batch, sums in zip(batches, self._map(score, batches, progress, done)):
            for (r, c, _, _), s in zip(batch, sums):
                out[r][c] = s
        return out

    def generate(self, prompts: Sequence[str], *, stop: Sequence[str] = (), max_new_tokens: int = 32,
                 progress: ProgressFn | None = None) -> list[str]:
        """Greedy completions of each prompt's token ids, cut at the first stop sequence."""
        keep = max(1, self.max_length - max_new_tokens)
        ids = [self.encoder.encode(p)[-keep:] or [self.encoder.prefix_token_id] for p in prompts]
        stops = [s for s in stop if s] or None

        def complete(batch: list[list[int]]) -> list[str]:
            return [str(c.get("text", "")) for c in self._completions(batch, max_tokens=max_new_tokens, stop=stops)]

        batches = self._batches(ids)
        texts = [t for part in self._map(complete, batches, progress, [len(b) for b in batches]) for t in part]
        return [cut_at_stop(t, stop) for t in texts]
