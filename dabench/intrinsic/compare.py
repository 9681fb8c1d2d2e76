"""The intrinsic kind (:class:`IntrinsicPlan`): is the adapted model closer to the domain's text, and what did it do to general text?

Each model scores the same held-out documents (perplexity for causal LMs, pseudo-perplexity for
masked LMs); per-document ``(nll, units)`` records go to the store, so an interrupted run resumes
and a base is never scored twice on the same text. The paired test resamples documents; the
headline metric is −log perplexity (higher is better; see :mod:`dabench.intrinsic.metrics`).
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np

from dabench.comparison import ModelInfo, TaskResult
from dabench.data import resolve_data_dir
from dabench.engines import checkpoints as ckpts
from dabench.example_rows import example_row
from dabench.errors import PairingError, TaskError
from dabench.intrinsic.documents import DocumentSet, load_documents
from dabench.intrinsic.metrics import NegLogPerplexity, Perplexity
from dabench.intrinsic.scoring import causal_nll, measure_of, pseudo_nll
from dabench.intrinsic.spec import IntrinsicSpec, get_intrinsic_registry
from dabench.handles import ModelHandle
from dabench.model_runs import run_key
from dabench.orchestrator import spec_config, spec_signature
from dabench.progress import Advance, Progress
from dabench.stats import paired_test
from dabench.store import RunInfo
from dabench.work import Run
from dabench.verdicts import check_stats_options

if TYPE_CHECKING:  # torch and transformers load only when a model is scored
    import torch
    from transformers import PreTrainedTokenizerBase


class _LM:
    """A checkpoint scored as a language model; loaded on first use."""

    def __init__(self, handle: ModelHandle) -> None:
        self.handle = handle
        self.name = handle.checkpoint
        self.options = dict(handle.options)
        self.ck = handle.resolved
        self.trust = bool(self.options.get("trust_remote_code"))
        self.config = ckpts.read_config(self.ck, trust_remote_code=self.trust)
        self._model: torch.nn.Module | None = None
        self._tok: PreTrainedTokenizerBase | None = None

    def measure(self) -> str:
        return measure_of(self.config, self.name)

    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tok is None:
            self._tok = ckpts.load_tokenizer(self.ck, trust_remote_code=self.trust)
        return self._tok

    def tokenizer_hash(self) -> str:
        tok = self.tokenizer()
        vocab = sorted(tok.get_vocab().items())
        special = sorted((k, str(v)) for k, v in tok.special_tokens_map.items())
        blob = repr((type(tok).__name__.replace("Fast", ""), vocab, special)).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def model(self) -> torch.nn.Module:
        if self._model is None:
            self._model = self._engine_model()
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

            from dabench.engines.hf import pick_device

            auto = AutoModelForMaskedLM if self.measure() == "pseudo_perplexity" else AutoModelForCausalLM
            model = ckpts.load_model(self.ck, auto, dtype=torch.float32, trust_remote_code=self.trust,
                                     allow_pickle=bool(self.options.get("allow_pickle")))
            if hasattr(model, "merge_and_unload"):
                model = model.merge_and_unload()
            self._model = model.to(pick_device(self.options.get("device"))).eval()
        return self._model

    def _engine_model(self) -> torch.nn.Module | None:
        """The causal LM of this side's engine when it is exactly what this kind would load (float32,
        no adapter switched in or out), so the checkpoint loads once per side; else None."""
        import torch

        engine = self.handle.loaded_engine()
        if engine is None and self._engine_would_do():
            engine = self.handle.get()
        model = getattr(engine, "model", None)
        if (engine is None or engine.kind != "lm" or self.measure() != "perplexity" or model is None
                or hasattr(model, "disable_adapter") or next(model.parameters()).dtype != torch.float32):
            return None
        return model

    def _engine_would_do(self) -> bool:
        """Whether loading the side's hf engine gives the float32 causal LM this kind needs."""
        import torch

        from dabench.engines.hf import pick_device, resolve_dtype

        archs = " ".join(getattr(self.config, "architectures", None) or [])
        if (self.handle.kind != "hf" or self.handle.shares_load or self.ck.kind == "adapter"
                or self.measure() != "perplexity" or "ForSequenceClassification" in archs):
            return False
        device = pick_device(self.options.get("device"))
        return resolve_dtype(self.options.get("dtype"), device) == torch.float32

    def max_length(self, spec_max: int | None, override: int | None) -> int:
        from dabench.engines.hf import model_max_length

        window = model_max_length(self.config, self.tokenizer())
        return int(min(override or spec_max or window, window))

    def release(self) -> None:
        self._model = None


class IntrinsicPlan:
    """The intrinsic tasks of a comparison (a :class:`~dabench.orchestrator.KindPlan`): documents, measure
    and one window per task fixed for both models before any weights load, then records, then paired tests."""

    kind = "intrinsic"

    def __init__(self, tasks: Sequence[str], handles: tuple[ModelHandle, ModelHandle], *,
                 data_dir: str | os.PathLike[str] | None = None,
                 data_files: Mapping[str, Mapping[str, str]] | None = None, limit: int | None = None,
                 max_length: int | None = None, batch_tokens: int = 8192, seed: int = 0, resamples: int = 10_000,
                 alpha: float = 0.05, margin: float | None = None, correction: str = "holm",
                 domain: str | None = None, tasks_dirs: Sequence[str | os.PathLike[str]] = ()) -> None:
        check_stats_options(alpha, correction)
        self.specs = get_intrinsic_registry(tasks_dirs).resolve(tasks)
        self.root = resolve_data_dir(data_dir)
        self.docsets = {s.name: load_documents(s, self.root, limit=limit, overrides=(data_files or {}).get(s.name),
                                               tasks_dirs=tasks_dirs) for s in self.specs}
        self.limit, self.max_length, self.batch_tokens = limit, max_length, batch_tokens
        self.seed, self.resamples, self.alpha, self.margin, self.correction = seed, resamples, alpha, margin, correction
        self.domain = domain
        self.lms = {"base": handles[0].view("intrinsic", _LM), "adapted": handles[1].view("intrinsic", _LM)}
        self.measures: dict[str, str] = {}
        for s in self.specs:
            found = {role: lm.measure() for role, lm in self.lms.items()}
            if found["base"] != found["adapted"]:
                raise PairingError(f"intrinsic task {s.name!r}: base is scored by {found['base']} but adapted by "
                                   f"{found['adapted']}; compare two causal LMs or two masked LMs")
            if s.measure != "auto" and s.measure != found["base"]:
                raise TaskError(f"intrinsic task {s.name!r} asks for {s.measure} but the checkpoints are scored by "
                                f"{found['base']}")
            self.measures[s.name] = found["base"]
            if s.unit == "token" and self.lms["base"].tokenizer_hash() != self.lms["adapted"].tokenizer_hash():
                raise PairingError(f"intrinsic task {s.name!r}: base and adapted use different tokenizers, so "
                                   "per-token perplexities are not comparable; set `unit: byte` in the task spec")
        # one window for both models (the smaller context), so both score the same tokens
        self.windows = {s.name: min(lm.max_length(s.max_length, max_length) for lm in self.lms.values())
                        for s in self.specs}
        self.records: dict[str, dict[str, list[dict[str, Any]]]] = {"base": {}, "adapted": {}}

    def side(self, role: str, handle: ModelHandle) -> Iterator[list[Run]]:
        runs = {s.name: _run(s, self.docsets[s.name], self.measures[s.name], self.windows[s.name], role,
                             self.batch_tokens) for s in self.specs}
        yield list(runs.values())
        self.records[role] = {name: run.ordered() for name, run in runs.items()}

    def test(self) -> list[tuple[TaskResult, Any]]:
        return [self._task_result(s) for s in self.specs]

    def config(self, results: Sequence[TaskResult]) -> dict[str, Any]:
        return {"regime": "intrinsic", **spec_config(self, max_length=self.max_length), "engine": "hf"}

    def signature(self, results: Sequence[TaskResult], infos: dict[str, ModelInfo]) -> dict[str, Any]:
        hashes = {s.name: self.docsets[s.name].data_hash for s in self.specs}
        return {**spec_signature(self, hashes, infos), "regime": "intrinsic"}

    def _task_result(self, spec: IntrinsicSpec) -> tuple[TaskResult, Any]:
        """The task's result and its paired test over the documents scored in both models."""
        docs = self.docsets[spec.name]
        stats_b, stats_a = (document_stats(self.records[role][spec.name], spec.unit) for role in ("base", "adapted"))
        keep = (stats_b[:, 1] > 0) & (stats_a[:, 1] > 0)
        dropped = int(np.count_nonzero(~keep))
        stats_b, stats_a = stats_b[keep], stats_a[keep]
        if stats_b.shape[0] == 0:
            raise PairingError(f"intrinsic task {spec.name!r}: no document has a scored token")
        metric = NegLogPerplexity()
        res = paired_test(metric, stats_b, stats_a, resamples=self.resamples, seed=self.seed, alpha=self.alpha,
                          margin=self.margin)
        pb, pa = (float(Perplexity().score_from_stats(st.sum(axis=0))) for st in (stats_b, stats_a))
        regime = {
            "regime": "intrinsic",
            "measure": self.measures[spec.name],
            "unit": spec.unit,
            "window": self.windows[spec.name],
            "source": docs.source,
            "documents": int(stats_b.shape[0]),
            "documents_without_tokens": dropped,
            "units": {"base": float(stats_b[:, 1].sum()), "adapted": float(stats_a[:, 1].sum())},
            "perplexity": {"base": pb, "adapted": pa, "ratio": pa / pb},
            "higher_is_better": True,
        }
        result = TaskResult.from_paired(
            res, task=spec.name, category=spec.category_for(self.domain), metric=metric.name, n=int(stats_b.shape[0]),
            secondary={"perplexity": {"base": pb, "adapted": pa, "delta": pa - pb}}, regime=regime)
        kept = [d for d, k in zip(docs.documents, keep) if k]
        per_b, per_a = -stats_b[:, 0] / stats_b[:, 1], -stats_a[:, 0] / stats_a[:, 1]
        unit = spec.unit
        result.examples = [
            example_row(d.id, d.text if len(d.text) <= 300 else d.text[:299] + "…", "",
                        f"nll/{unit} {-b:.4f}", f"nll/{unit} {-a:.4f}", base_score=float(b), adapted_score=float(a))
            for d, b, a in zip(kept, per_b, per_a)]
        return result, res


def _run(spec: IntrinsicSpec, docs: DocumentSet, measure: str, window: int, role: str, batch_tokens: int) -> Run:
    """One model's per-document records of one task."""
    info = RunInfo(model_name=role, task=spec.name, spec_hash=spec.spec_hash(),
                   config={"measure": measure, "window": window, "source": docs.source})
    return Run(kind="intrinsic", task=spec.name, label=f"{role} · {spec.name} ({measure.replace('_', '-')})",
               run_key=run_key({"kind": f"intrinsic/{measure}", "spec": spec.spec_hash(), "data": docs.data_hash,
                                "window": window}), ids=[d.id for d in docs.documents],
               job=_ScoreJob(docs, measure, window, batch_tokens), info=info)


class _ScoreJob:
    """Per-document ``(nll, tokens, bytes)`` of some documents, on the handle's scoring LM."""

    def __init__(self, docs: DocumentSet, measure: str, window: int, batch_tokens: int) -> None:
        self.docs, self.measure, self.window, self.batch_tokens = docs, measure, window, batch_tokens

    def __call__(self, handle: ModelHandle, ids: Sequence[str], progress: Progress, advance: Advance
                 ) -> list[tuple[str, dict[str, Any]]]:
        lm = handle.view("intrinsic", _LM)
        by_id = {d.id: d for d in self.docs.documents}
        chunk = [by_id[i] for i in ids]
        nll = pseudo_nll if self.measure == "pseudo_perplexity" else causal_nll
        scores = nll(lm.model(), lm.tokenizer(), [d.text for d in chunk], max_length=self.window,
                     batch_tokens=self.batch_tokens, progress=advance)
        return [(d.id, {"nll": s.nll, "tokens": s.tokens, "bytes": s.bytes}) for d, s in zip(chunk, scores)]


def document_stats(records: Sequence[Mapping[str, Any]], unit: str) -> np.ndarray:
    """``(n, 2)`` rows of (nll, units) from stored per-document records."""
    col = "tokens" if unit == "token" else "bytes"
    return np.array([[r["nll"], r[col]] for r in records], dtype=np.float64)
