"""``compare_intrinsic``: is the adapted model closer to the domain's text, and what did it do to general text?

Each model scores the same held-out documents (perplexity for causal LMs, pseudo-perplexity for
masked LMs); per-document ``(nll, units)`` records go to the store, so an interrupted run resumes
and a base is never scored twice on the same text. The paired test resamples documents; the
headline metric is −log perplexity (higher is better; see :mod:`dabench.intrinsic.metrics`).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Mapping, Sequence

import numpy as np

from dabench.comparison import Comparison, TaskResult
from dabench.data import resolve_data_dir
from dabench.errors import PairingError, TaskError
from dabench.intrinsic.documents import DocumentSet, load_documents
from dabench.intrinsic.metrics import NegLogPerplexity, Perplexity
from dabench.intrinsic.scoring import causal_nll, measure_of, pseudo_nll
from dabench.intrinsic.spec import IntrinsicSpec, get_intrinsic_registry
from dabench.progress import Progress, progress_context
from dabench.regimes import _common as common
from dabench.stats import paired_test
from dabench.store import Store
from dabench.verdicts import apply_verdicts, check_stats_options

#: records per store commit
CHUNK = 64


class _LM:
    """A checkpoint scored as a language model; loaded on first use."""

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        from dabench.engines import checkpoints as ckpts

        self.name = name
        self.options = dict(options)
        self.ck = common.resolve_checkpoint(name, options)
        self.fp = common.checkpoint_fingerprint(self.ck)
        self.config = ckpts.read_config(self.ck, trust_remote_code=bool(options.get("trust_remote_code")))
        self._model = None
        self._tok = None

    def measure(self) -> str:
        return measure_of(self.config, self.name)

    def tokenizer(self):
        if self._tok is None:
            from dabench.engines import checkpoints as ckpts

            self._tok = ckpts.load_tokenizer(self.ck, trust_remote_code=bool(self.options.get("trust_remote_code")))
        return self._tok

    def tokenizer_hash(self) -> str:
        tok = self.tokenizer()
        vocab = sorted(tok.get_vocab().items())
        special = sorted((k, str(v)) for k, v in tok.special_tokens_map.items())
        blob = repr((type(tok).__name__.replace("Fast", ""), vocab, special)).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def model(self):
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

            from dabench.engines import checkpoints as ckpts
            from dabench.engines.hf import pick_device

            auto = AutoModelForMaskedLM if self.measure() == "pseudo_perplexity" else AutoModelForCausalLM
            model = ckpts.load_model(self.ck, auto, dtype=torch.float32,
                                     trust_remote_code=bool(self.options.get("trust_remote_code")))
            if hasattr(model, "merge_and_unload"):
                model = model.merge_and_unload()
            self._model = model.to(pick_device(self.options.get("device"))).eval()
        return self._model

    def max_length(self, spec_max: int | None, override: int | None) -> int:
        from dabench.engines.hf import model_max_length

        window = model_max_length(self.config, self.tokenizer())
        want = override or spec_max or window
        return int(min(want, window))

    def release(self) -> None:
        self._model = None


def compare_intrinsic(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    data_dir: str | os.PathLike | None = None,
    data_files: Mapping[str, Mapping[str, str]] | None = None,
    limit: int | None = None,
    max_length: int | None = None,
    batch_tokens: int = 8192,
    seed: int = 0,
    resamples: int = 10_000,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    domain: str | None = None,
    store_path: str | os.PathLike | None = None,
    engine_options: Mapping[str, Any] | None = None,
    tasks_dirs: Sequence[str | os.PathLike] = (),
    progress: bool | Progress = True,
) -> Comparison:
    """Compare ``adapted`` with ``base`` on the intrinsic ``tasks`` (names or suites of
    ``tasks/intrinsic/*.yml``): Δ of −log perplexity per task, paired over documents."""
    check_stats_options(alpha, correction)
    specs = get_intrinsic_registry(tasks_dirs).resolve(tasks)
    root = resolve_data_dir(data_dir)
    data_files = data_files or {}
    docsets = {s.name: load_documents(s, root, limit=limit, overrides=data_files.get(s.name), tasks_dirs=tasks_dirs)
               for s in specs}
    options = dict(engine_options or {})
    lms = {"base": _LM(base, options), "adapted": _LM(adapted, options)}
    measures = {}
    for s in specs:
        found = {role: lm.measure() for role, lm in lms.items()}
        if found["base"] != found["adapted"]:
            raise PairingError(f"intrinsic task {s.name!r}: base is scored by {found['base']} but adapted by "
                               f"{found['adapted']}; compare two causal LMs or two masked LMs")
        if s.measure != "auto" and s.measure != found["base"]:
            raise TaskError(f"intrinsic task {s.name!r} asks for {s.measure} but the checkpoints are scored by "
                            f"{found['base']}")
        measures[s.name] = found["base"]
        if s.unit == "token" and lms["base"].tokenizer_hash() != lms["adapted"].tokenizer_hash():
            raise PairingError(f"intrinsic task {s.name!r}: base and adapted use different tokenizers, so per-token "
                               "perplexities are not comparable; set `unit: byte` in the task spec")

    # one window for both models (the smaller context), so both score the same tokens
    windows = {s.name: min(lm.max_length(s.max_length, max_length) for lm in lms.values()) for s in specs}
    records: dict[str, dict[str, list[dict[str, Any]]]] = {"base": {}, "adapted": {}}
    with progress_context(progress) as prog:
        store = Store(store_path)
        try:
            for role, lm in lms.items():
                for s in specs:
                    window = windows[s.name]
                    key = _run_key(s, docsets[s.name], measures[s.name], window)
                    records[role][s.name] = _score(lm, s, docsets[s.name], measures[s.name], window, key, store,
                                                   prog, role, batch_tokens)
                lm.release()
        finally:
            store.close()

    tested = [_task_result(s, docsets[s.name], records["base"][s.name], records["adapted"][s.name], measures[s.name],
                           windows[s.name], domain, resamples, seed, alpha, margin) for s in specs]
    results = apply_verdicts(tested, correction=correction, alpha=alpha, margin=margin)
    infos = {role: common.model_info(name, lms[role].ck, lms[role].fp) for role, name in (("base", base), ("adapted", adapted))}
    config = {
        "regime": "intrinsic",
        "tasks": [s.name for s in specs],
        "data_dir": str(root) if root else None,
        "limit": limit,
        "max_length": max_length,
        "seed": seed,
        "resamples": resamples,
        "alpha": alpha,
        "margin": margin,
        "correction": correction,
        "domain": domain,
        "engine": "hf",
    }
    signature = {
        "task_hashes": {s.name: s.spec_hash() for s in specs},
        "data_hashes": {s.name: docsets[s.name].data_hash for s in specs},
        "fingerprints": {"base": infos["base"].fingerprint, "adapted": infos["adapted"].fingerprint},
        "seed": seed,
        "resamples": resamples,
        "alpha": alpha,
        "correction": correction,
        "regime": "intrinsic",
    }
    return common.build_comparison(infos["base"], infos["adapted"], results, config, signature)


def _run_key(spec: IntrinsicSpec, docs: DocumentSet, measure: str, window: int) -> str:
    return common.run_key({
        "kind": f"intrinsic/{measure}",
        "spec": spec.spec_hash(),
        "data": docs.data_hash,
        "window": window,
    })


def _score(lm: _LM, spec: IntrinsicSpec, docs: DocumentSet, measure: str, window: int, key: str, store: Store,
           prog: Progress, role: str, batch_tokens: int) -> list[dict[str, Any]]:
    store.register_run(lm.fp, key, seed=0, model_name=role, task=spec.name, spec_hash=spec.spec_hash(),
                       config={"measure": measure, "window": window, "source": docs.source}, n_examples=len(docs.documents))
    stored = store.get(lm.fp, key)
    missing = [d for d in docs.documents if d.id not in stored]
    advance = prog.task(f"{role} · {spec.name} ({measure.replace('_', '-')})", len(docs.documents))
    advance(len(docs.documents) - len(missing))
    if missing:
        model, tok = lm.model(), lm.tokenizer()
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            texts = [d.text for d in chunk]
            if measure == "pseudo_perplexity":
                scores = pseudo_nll(model, tok, texts, max_length=window, batch_tokens=batch_tokens, progress=advance)
            else:
                scores = causal_nll(model, tok, texts, max_length=window, batch_tokens=batch_tokens, progress=advance)
            batch = [(d.id, {"nll": s.nll, "tokens": s.tokens, "bytes": s.bytes}) for d, s in zip(chunk, scores)]
            for doc_id, rec in batch:
                stored[doc_id] = rec
            store.put_many(lm.fp, key, batch)
    return [stored[d.id] for d in docs.documents]


def document_stats(records: Sequence[Mapping[str, Any]], unit: str) -> np.ndarray:
    """``(n, 2)`` rows of (nll, units) from stored per-document records."""
    col = "tokens" if unit == "token" else "bytes"
    return np.array([[r["nll"], r[col]] for r in records], dtype=np.float64)


def _task_result(spec: IntrinsicSpec, docs: DocumentSet, rec_b: list[dict[str, Any]], rec_a: list[dict[str, Any]],
                 measure: str, window: int, domain: str | None, resamples: int, seed: int, alpha: float,
                 margin: float | None) -> tuple[TaskResult, Any]:
    stats_b = document_stats(rec_b, spec.unit)
    stats_a = document_stats(rec_a, spec.unit)
    keep = (stats_b[:, 1] > 0) & (stats_a[:, 1] > 0)
    dropped = int(np.count_nonzero(~keep))
    stats_b, stats_a = stats_b[keep], stats_a[keep]
    if stats_b.shape[0] == 0:
        raise PairingError(f"intrinsic task {spec.name!r}: no document has a scored token")
    metric = NegLogPerplexity()
    res = paired_test(metric, stats_b, stats_a, resamples=resamples, seed=seed, alpha=alpha, margin=margin)
    ppl = Perplexity()
    pb = float(ppl.score_from_stats(stats_b.sum(axis=0)))
    pa = float(ppl.score_from_stats(stats_a.sum(axis=0)))
    regime = {
        "regime": "intrinsic",
        "measure": measure,
        "unit": spec.unit,
        "window": window,
        "source": docs.source,
        "documents": int(stats_b.shape[0]),
        "documents_without_tokens": dropped,
        "units": {"base": float(stats_b[:, 1].sum()), "adapted": float(stats_a[:, 1].sum())},
        "perplexity": {"base": pb, "adapted": pa, "ratio": pa / pb},
        "higher_is_better": True,
    }
    result = TaskResult.from_paired(
        res, task=spec.name, category=spec.category_for(domain), metric=metric.name, n=int(stats_b.shape[0]),
        secondary={"perplexity": {"base": pb, "adapted": pa, "delta": pa - pb}}, regime=regime,
    )
    return result, res
