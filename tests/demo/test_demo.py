"""The demo's data, task specs and model build.

The full demo build (the shipped recipe, ~20 s on 2 idle cores) runs once per session (the
``built`` fixture of ``conftest.py``); the determinism checks use a cut-down recipe so they
cost a second or two each.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from scipy.stats import binomtest

from dabench.data import load_split
from dabench.demo import DATA_DIR, DEMO_DOMAIN, DEMO_TASKS, BuildConfig, TrainConfig, build_demo
from dabench.demo import generate
from dabench.taskspec import TaskSpec

TINY = BuildConfig(base=TrainConfig(steps=6, lr=3e-3, warmup=2), adapted=TrainConfig(steps=4, lr=3e-3, warmup=2))


@pytest.fixture(scope="session")
def loaded(built):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assets, _ = built
    out = {}
    for name, path in (("base", assets.base_dir), ("adapted", assets.adapted_dir)):
        out[name] = (AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval())
    return out


def _examples(spec: TaskSpec, split: str):
    """A split of a demo task, read from the data shipped with dabench (no data dir)."""
    return load_split(spec, split, None)[0]


def _weights_hash(model_dir: Path) -> str:
    from safetensors.torch import load_file

    tensors = load_file(model_dir / "model.safetensors")
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(tensors[name].contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.inference_mode()
def _accuracy(tokenizer, model, spec: TaskSpec, split: str, template_id: str | None = None) -> tuple[float, list[bool]]:
    """Zero-shot accuracy: argmax over labels of log P(delimiter + verbaliser | prompt)."""
    template = spec.template(template_id)
    examples = _examples(spec, split)
    seqs = []
    for ex in examples:
        prompt = tokenizer(template.text.format(**ex.inputs), add_special_tokens=False)["input_ids"]
        for label in spec.labels:
            cont = tokenizer(template.target_delimiter + spec.verbalizers[label], add_special_tokens=False)["input_ids"]
            seqs.append((prompt, cont))
    width = max(len(p) + len(c) for p, c in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, (p, c) in enumerate(seqs):
        ids[i, : len(p) + len(c)] = torch.tensor(p + c)
        mask[i, : len(p) + len(c)] = 1
    logprobs = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
    scores = [
        sum(float(logprobs[i, len(p) - 1 + j, tok]) for j, tok in enumerate(c)) for i, (p, c) in enumerate(seqs)
    ]
    k = len(spec.labels)
    correct = []
    for n, ex in enumerate(examples):
        row = scores[n * k:(n + 1) * k]
        correct.append(spec.labels[row.index(max(row))] == ex.label)
    return sum(correct) / len(correct), correct


# ---------------------------------------------------------------------------- data and specs
def test_committed_data_is_what_the_generator_writes():
    files = generate.generate()
    on_disk = {p.relative_to(DATA_DIR).as_posix() for p in DATA_DIR.rglob("*") if p.is_file()}
    assert on_disk == set(files)
    for rel, text in files.items():
        assert (DATA_DIR / rel).read_text(encoding="utf-8") == text, rel
    assert sum((DATA_DIR / rel).stat().st_size for rel in files) < 1_000_000


def test_specs_validate_and_read(specs):
    assert set(specs) == set(DEMO_TASKS)
    cats = {name: spec.category_for(DEMO_DOMAIN) for name, spec in specs.items()}
    assert cats == {"demo_domain": "in-domain", "demo_general": "out-of-domain", "demo_knowledge": "knowledge"}
    assert specs["demo_knowledge"].knowledge is True
    for spec in specs.values():
        assert spec.format == "jsonl" and spec.id_field == "id" and len(spec.templates) >= 2
        seen_ids: set[str] = set()
        for split in spec.files:
            examples = _examples(spec, split)
            ids = [ex.id for ex in examples]
            assert not seen_ids & set(ids), f"{spec.name}: ids shared between splits"
            seen_ids |= set(ids)
            assert {ex.label for ex in examples} == set(spec.labels), (spec.name, split)
    assert len(_examples(specs["demo_domain"], "test")) == 300
    assert len(_examples(specs["demo_general"], "test")) == 300
    assert len(_examples(specs["demo_knowledge"], "test")) == 180


def test_evaluated_facts_are_never_in_template_phrasing(specs):
    """The domain corpus states each evaluated fact, but never as a task prompt would."""
    spec = specs["demo_domain"]
    domain = (DATA_DIR / "corpus" / "domain.txt").read_text(encoding="utf-8")
    general = (DATA_DIR / "corpus" / "general.txt").read_text(encoding="utf-8")
    general_words = set(general.split())
    for split in ("validation", "test"):
        for ex in _examples(spec, split):
            c = ex.inputs["compound"]
            assert f" {c} " in f" {domain} " and c not in general_words
            for t in spec.templates:
                assert t.text.format(**ex.inputs) not in domain
    reviews = specs["demo_general"]
    corpus_lines = general.splitlines()
    for ex in _examples(reviews, "test"):
        assert not any(line.startswith(ex.inputs["text"]) for line in corpus_lines)


# ---------------------------------------------------------------------------- the build
def test_build_writes_loadable_models(built, loaded):
    assets, _ = built
    for d in (assets.base_dir, assets.adapted_dir):
        assert (d / "model.safetensors").is_file() and not list(d.glob("*.bin"))
    tok_b, model_b = loaded["base"]
    tok_a, model_a = loaded["adapted"]
    assert tok_b.get_vocab() == tok_a.get_vocab()
    assert model_b.config.n_layer == 2 and model_b.config.vocab_size == len(tok_b)
    assert tok_b.eos_token_id is not None and tok_b.pad_token_id is not None
    assert _weights_hash(assets.base_dir) != _weights_hash(assets.adapted_dir)
    marker = json.loads((assets.base_dir.parent / "demo_build.json").read_text())
    assert marker["seed"] == 0


def test_progress_is_monotone_and_finishes(built):
    _, calls = built
    fractions = [f for _, f in calls]
    assert len(calls) >= 20
    assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] == 1.0
    stages = {s for s, _ in calls}
    assert {"training base model", "adapting on the domain corpus"} <= stages


def test_rebuild_with_same_seed_reuses(built):
    assets, _ = built
    before = (assets.base_dir / "model.safetensors").stat().st_mtime_ns
    calls: list[tuple[str, float]] = []
    again = build_demo(assets.base_dir.parent, seed=0, progress=lambda s, f: calls.append((s, f)))
    assert again == assets
    assert calls == [("reused", 1.0)]
    assert (assets.base_dir / "model.safetensors").stat().st_mtime_ns == before


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    rng_before = torch.get_rng_state()
    a = build_demo(tmp_path / "a", seed=3, config=TINY)
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's RNG is left alone
    b = build_demo(tmp_path / "b", seed=3, config=TINY)
    c = build_demo(tmp_path / "c", seed=4, config=TINY)
    for name in ("base_dir", "adapted_dir"):
        assert _weights_hash(getattr(a, name)) == _weights_hash(getattr(b, name))
        assert _weights_hash(getattr(a, name)) != _weights_hash(getattr(c, name))
    assert (a.base_dir / "tokenizer.json").read_bytes() == (b.base_dir / "tokenizer.json").read_bytes()
    # a different seed in the same dir rebuilds instead of reusing
    d = build_demo(tmp_path / "a", seed=4, config=TINY)
    assert _weights_hash(d.base_dir) == _weights_hash(c.base_dir)


def test_interrupted_build_is_replaced(tmp_path):
    done = build_demo(tmp_path / "ok", seed=3, config=TINY)
    (tmp_path / "cut" / "base").mkdir(parents=True)
    (tmp_path / "cut" / "demo_build.json").write_text(json.dumps({"schema": "dabench.demo_build/1", "state": "building"}))
    again = build_demo(tmp_path / "cut", seed=3, config=TINY)
    assert _weights_hash(again.adapted_dir) == _weights_hash(done.adapted_dir)
    assert json.loads((tmp_path / "cut" / "demo_build.json").read_text())["state"] == "complete"


def test_refuses_to_overwrite_foreign_dirs(tmp_path):
    from dabench.errors import DabenchError

    (tmp_path / "base").mkdir()
    with pytest.raises(DabenchError, match="not from a dabench demo build"):
        build_demo(tmp_path, config=TINY)


# ---------------------------------------------------------------------------- what the models know
def test_prompts_and_verbalizers_are_in_vocabulary(loaded, specs):
    tok, _ = loaded["base"]
    unk = tok.unk_token_id
    for spec in specs.values():
        for label in spec.labels:
            assert len(tok(" " + spec.verbalizers[label], add_special_tokens=False)["input_ids"]) == 1
        for split in spec.files:
            for ex in _examples(spec, split):
                for t in spec.templates:
                    assert unk not in tok(t.text.format(**ex.inputs), add_special_tokens=False)["input_ids"]


def test_adapted_model_wins_in_domain(loaded, specs):
    spec = specs["demo_domain"]
    acc_b, ok_b = _accuracy(*loaded["base"], spec, "test")
    acc_a, ok_a = _accuracy(*loaded["adapted"], spec, "test")
    assert acc_b < 0.5  # chance is 1/3: the base never saw a compound
    assert acc_a > 0.85 and acc_a - acc_b > 0.4
    # exact McNemar on the discordant pairs (a reference test for paired binary outcomes)
    wins = sum(a and not b for a, b in zip(ok_a, ok_b))
    losses = sum(b and not a for a, b in zip(ok_a, ok_b))
    assert binomtest(wins, wins + losses, 0.5).pvalue * 3 < 1e-6  # survives Holm over 3 tasks


def test_base_model_learnt_the_general_corpus(loaded, specs):
    # chance: 1/2 (sentiment) and 1/len(labels) (languages); the base must be far above it
    for name, floor in (("demo_general", 0.7), ("demo_knowledge", 0.85)):
        acc, _ = _accuracy(*loaded["base"], specs[name], "test")
        assert acc > floor, name
