"""Build the demo's two models: a small base causal LM and an adapted copy.

The base is a 2-layer GPT-2 trained from scratch on the general corpus; the adapted model
continues pretraining a copy on the domain corpus mixed with a little general text (DAPT).
Both share one word-level tokenizer over both corpora, so the base knows the domain's words
but was never trained on them. Runs on CPU in seconds, deterministic for a seed and thread
count; a marker file (seed, hash of recipe and data) lets a second call reuse the models.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from dabench.demo.generate import DATA_VERSION
from dabench.errors import DabenchError

#: the shipped corpora and task files (the registered specs of suite ``demo``, under the
#: top-level ``tasks/demo/``, point at the task files here with ``data_source: package``)
DATA_DIR = Path(__file__).resolve().parent / "data"
MARKER = "demo_build.json"
MARKER_SCHEMA = "dabench.demo_build/1"
EOS = "<|endoftext|>"
UNK = "<unk>"

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DemoAssets:
    """Where a built demo lives: the two model dirs. The demo's tasks are registered (suite
    ``demo``) and find their shipped data themselves, so no data or task dir goes with them."""

    base_dir: Path
    adapted_dir: Path


@dataclass(frozen=True)
class TrainConfig:
    """One training phase: optimiser steps over batches of whole sentences of its corpus."""

    steps: int
    lr: float
    warmup: int = 20
    weight_decay: float = 0.01


@dataclass(frozen=True)
class BuildConfig:
    """Model size and the two training phases. The defaults are the shipped demo."""

    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 4
    #: the models' context length (training rows are single sentences, under 32 tokens)
    n_positions: int = 128
    #: std of the initial weights: larger than GPT-2's 0.02, which leaves a model this small on
    #: a long loss plateau before its attention finds the words a prediction depends on
    init_std: float = 0.06
    #: sentences per optimiser step
    batch_size: int = 64
    base: TrainConfig = field(default_factory=lambda: TrainConfig(steps=700, lr=6e-3))
    adapted: TrainConfig = field(default_factory=lambda: TrainConfig(steps=500, lr=5e-3))
    #: lines of general text mixed into the domain corpus, per domain line
    general_mix: float = 0.2
    #: torch intra-op threads while building; None keeps torch's setting. Not part of the recipe (it
    #: changes speed, not what is learnt); on a CPU shared with busy processes 1 thread is much faster.
    num_threads: int | None = None

    def recipe_hash(self) -> str:
        recipe = {k: v for k, v in asdict(self).items() if k != "num_threads"}
        blob = json.dumps({"config": recipe, "data": DATA_VERSION, "files": _data_digest()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _data_digest() -> str:
    h = hashlib.sha256()
    for path in sorted((DATA_DIR / "corpus").glob("*.txt")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _read_lines(name: str) -> list[str]:
    path = DATA_DIR / "corpus" / f"{name}.txt"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------- tokenizer
def train_tokenizer(corpora: list[list[str]]) -> Any:
    """A lower-casing word-level tokenizer over every word of the corpora: each fictional name is
    one token, so a fact is one association to learn. Ids are ordered by frequency, then word."""
    from collections import Counter

    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.Lowercase()
    pre = pre_tokenizers.Whitespace()
    counts = Counter(word for lines in corpora for line in lines
                     for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(line)))
    words = sorted(counts, key=lambda w: (-counts[w], w))
    vocab = {tok: i for i, tok in enumerate([EOS, UNK, *words])}
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token=UNK))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=UNK, pad_token=EOS,
        model_max_length=BuildConfig().n_positions,
    )


# ---------------------------------------------------------------------------- training
def _encode_lines(tokenizer: Any, lines: list[str]) -> list[list[int]]:
    eos = tokenizer.eos_token_id
    return [ids + [eos] for ids in tokenizer(lines, add_special_tokens=False)["input_ids"]]


def _batches(encoded: list[list[int]], size: int, pad: int, rng: random.Random) -> Iterator[tuple[Any, Any, Any]]:
    """Endless stream of batches of whole lines, reshuffled each pass, right-padded: one line per
    row from position 0, as prompts are scored, and a model this small learns fast from it
    (packed rows starting mid-sentence keep it on a long plateau)."""
    import torch

    while True:
        order = list(range(len(encoded)))
        rng.shuffle(order)
        for start in range(0, len(order) - size + 1, size):
            rows = [encoded[i] for i in order[start:start + size]]
            width = max(len(r) for r in rows)
            ids = torch.full((size, width), pad, dtype=torch.long)
            mask = torch.zeros((size, width), dtype=torch.long)
            for j, row in enumerate(rows):
                ids[j, : len(row)] = torch.tensor(row, dtype=torch.long)
                mask[j, : len(row)] = 1
            yield ids, ids.masked_fill(mask == 0, -100), mask


def _train(model: Any, tokenizer: Any, encoded: list[list[int]], cfg: TrainConfig, bc: BuildConfig,
           rng: random.Random, tick: Callable[[int], None], path: Path) -> None:
    """AdamW with linear warm-up and cosine decay to 10% of the peak rate; then save model and tokenizer to ``path``."""
    import torch

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.98),
    )

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return (step + 1) / cfg.warmup
        done = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    batches = _batches(encoded, bc.batch_size, tokenizer.pad_token_id, rng)
    model.train()
    for step in range(cfg.steps):
        ids, labels, mask = next(batches)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        tick(step + 1)
    model.eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)


# ---------------------------------------------------------------------------- build
def _marker_ok(out_dir: Path, seed: int, recipe: str) -> bool:
    try:
        marker = json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = {"schema": MARKER_SCHEMA, "state": "complete", "seed": seed, "recipe": recipe}
    files = [out_dir / d / f for d in ("base", "adapted")
             for f in ("config.json", "model.safetensors", "tokenizer.json")]
    return all(marker.get(k) == v for k, v in expected.items()) and all(f.is_file() for f in files)


def build_demo(
    out_dir: Path,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    config: BuildConfig | None = None,
) -> DemoAssets:
    """Build (or reuse) the demo's base and adapted models under ``out_dir``: ``base/`` and
    ``adapted/`` (each loads offline with ``AutoModelForCausalLM`` / ``AutoTokenizer``) and the
    marker ``demo_build.json``. ``progress(stage, fraction)`` reports the share done, non-decreasing."""
    cfg = config or BuildConfig()
    out_dir = Path(out_dir)
    recipe = cfg.recipe_hash()
    assets = DemoAssets(out_dir / "base", out_dir / "adapted")
    report = progress or (lambda stage, fraction: None)
    if _marker_ok(out_dir, seed, recipe):
        report("reused", 1.0)
        return assets
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (assets.base_dir, assets.adapted_dir):  # a previous or interrupted build's; touch nothing else
        if path.exists():
            if not (out_dir / MARKER).is_file():
                raise DabenchError(f"{path} exists and is not from a dabench demo build; choose another output dir")
            shutil.rmtree(path)
    started = time.perf_counter()

    total = cfg.base.steps + cfg.adapted.steps
    every = max(1, total // 100)

    def ticker(stage: str, offset: int) -> Callable[[int], None]:
        def tick(step: int) -> None:
            if step % every == 0:
                report(stage, min(1.0, (offset + step) / total) * 0.98)
        return tick

    marker = {"schema": MARKER_SCHEMA, "state": "building", "seed": seed, "recipe": recipe,
              "data_version": DATA_VERSION, "config": asdict(cfg)}
    _write_marker(out_dir, marker)  # an interrupted build is recognised and replaced next time
    with _quiet(cfg.num_threads):
        _build(cfg, seed, assets, ticker, report)
    _write_marker(out_dir, {**marker, "state": "complete", "seconds": round(time.perf_counter() - started, 2)})
    report("done", 1.0)
    return assets


def _write_marker(out_dir: Path, marker: dict) -> None:
    (out_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _build(cfg: BuildConfig, seed: int, assets: DemoAssets, ticker: Callable[[str, int], Callable[[int], None]],
           report: Progress) -> None:
    """Tokenizer, base model on the general corpus, adapted copy on the domain corpus."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    report("tokenizer", 0.0)
    general, domain = _read_lines("general"), _read_lines("domain")
    tokenizer = train_tokenizer([general, domain])
    rng = random.Random(seed)
    enc_general = _encode_lines(tokenizer, general)
    enc_domain = _encode_lines(tokenizer, domain)

    model_cfg = GPT2Config(
        vocab_size=len(tokenizer), n_positions=cfg.n_positions, n_embd=cfg.n_embd, n_layer=cfg.n_layer,
        n_head=cfg.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, initializer_range=cfg.init_std,
    )
    with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching the caller's RNG
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(model_cfg)
    _train(model, tokenizer, enc_general, cfg.base, cfg, rng, ticker("training base model", 0), assets.base_dir)

    n_mix = int(len(enc_domain) * cfg.general_mix)
    mix = rng.sample(enc_general, min(n_mix, len(enc_general)))
    _train(model, tokenizer, enc_domain + mix, cfg.adapted, cfg, rng,
           ticker("adapting on the domain corpus", cfg.base.steps), assets.adapted_dir)


@contextmanager
def _quiet(num_threads: int | None) -> Iterator[None]:
    """While building: silence transformers' save progress bars and one-off warnings, and run
    torch on ``num_threads`` threads (None keeps its setting)."""
    import torch
    from transformers.utils import logging as hf_logging

    threads = torch.get_num_threads()
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(threads if num_threads is None else num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
