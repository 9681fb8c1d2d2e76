"""Tiny models: configs, the (base, adapted) pairs of the session fixtures, BERT classifiers
and a Llama with a LoRA adapter for vLLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tests._builders.text import MARKERS, build_bpe, build_wordpiece, chemprot_text, general_text
from tests._builders.train import train


def gpt2(vocab_size: int, *, width: int = 64, positions: int = 256, seed: int | None = None, **extra: Any) -> Any:
    """A 2-layer, 2-head GPT-2 LM (``seed``: torch's seed just before its initialisation)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    if seed is not None:
        torch.manual_seed(seed)
    return GPT2LMHeadModel(GPT2Config(vocab_size=vocab_size, n_positions=positions, n_embd=width, n_layer=2,
                                      n_head=2, **extra))


def bert(head: type, vocab_size: int, *, width: int = 64, layers: int = 2, heads: int = 4, seed: int | None = None,
         **extra: Any) -> Any:
    """A small BERT with ``head`` (``BertForMaskedLM``, ``BertForSequenceClassification``, …),
    intermediate size twice its width, 128 positions."""
    from transformers import BertConfig

    if seed is not None:
        torch.manual_seed(seed)
    return head(BertConfig(vocab_size=vocab_size, hidden_size=width, num_hidden_layers=layers, num_attention_heads=heads,
                           intermediate_size=2 * width, max_position_embeddings=128, **extra))


def build_lm_pair(shared_data: Path, root: Path) -> tuple[Path, Path]:
    """(base, adapted) GPT-2s with one BPE tokenizer: the base trained 30 steps on general text,
    the adapted one continued 30 steps on ChemProt text."""
    general, domain = general_text(shared_data), chemprot_text(shared_data, 600)
    base_dir, adapted_dir = root / "base", root / "adapted"
    tok = build_bpe(general + domain, base_dir)
    tok.save_pretrained(adapted_dir)
    model = gpt2(len(tok), seed=0, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    train(model, tok, [t + tok.eos_token for t in general], steps=30, seed=0)
    model.save_pretrained(base_dir)
    train(model, tok, [t + tok.eos_token for t in domain], steps=30, seed=1)
    model.save_pretrained(adapted_dir)
    return base_dir, adapted_dir


def build_bert_pair(shared_data: Path, root: Path) -> tuple[Path, Path]:
    """(base, adapted) 2-layer BERT masked LMs with one WordPiece tokenizer: 60 MLM steps on
    general text, then 60 more on ChemProt text (markers removed)."""
    from transformers import BertForMaskedLM

    general, domain = general_text(shared_data), chemprot_text(shared_data, 800, clean=True)
    base_dir, adapted_dir = root / "bert-base", root / "bert-adapted"
    tok = build_wordpiece(general + domain + [" ".join(MARKERS)], base_dir)  # markers: for fine-tuning
    tok.save_pretrained(adapted_dir)
    model = bert(BertForMaskedLM, len(tok), seed=0, pad_token_id=tok.pad_token_id)
    train(model, tok, general, steps=60, seed=0, mlm=True)
    model.save_pretrained(base_dir)
    train(model, tok, domain, steps=60, seed=1, mlm=True)
    model.save_pretrained(adapted_dir)
    return base_dir, adapted_dir


def build_classifier(out: Path, texts: list[str], id2label: dict[int, str], *, regression: bool = False,
                     seed: int = 0) -> Path:
    """A 2-layer BERT sequence classifier (random head; the tests check plumbing against direct calls)."""
    from transformers import BertForSequenceClassification

    tok = build_wordpiece(texts, out)
    model = bert(BertForSequenceClassification, len(tok), width=32, heads=2, seed=seed,
                 num_labels=1 if regression else len(id2label),
                 id2label={0: "LABEL_0"} if regression else id2label,
                 label2id={"LABEL_0": 0} if regression else {v: k for k, v in id2label.items()},
                 problem_type="regression" if regression else "single_label_classification")
    model.eval().save_pretrained(out)
    return out


def build_llama_pair(tokenizer_dir: Path, out: Path, *, seed: int = 0, max_positions: int = 256) -> tuple[Path, Path]:
    """A 2-layer Llama (random weights, the tokenizer of ``tokenizer_dir``) and a random LoRA
    adapter on it: vLLM serves LoRA for Llama-family models, not for GPT-2."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    base_dir, adapter_dir = out / "llama", out / "llama_lora"
    tok.save_pretrained(base_dir)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=max_positions,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.2)
    model.save_pretrained(base_dir)
    lora = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), LoraConfig(
        r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_" in name:
                p.mul_(0.5)
    lora.save_pretrained(adapter_dir)
    return base_dir, adapter_dir


def build_checkpoint_series(base_dir: Path, shared_data: Path, out: Path, steps: tuple[int, ...], *,
                            lr: float = 3e-3) -> list[Path]:
    """Continued pretraining of ``base_dir`` on ChemProt text, saved as ``checkpoint-<step>`` at each
    of ``steps`` (cumulative, one run), with a ``trainer_state.json`` as transformers writes it."""
    import json

    from transformers import AutoTokenizer, GPT2LMHeadModel

    tok = AutoTokenizer.from_pretrained(base_dir)
    model = GPT2LMHeadModel.from_pretrained(base_dir)
    domain = [t + tok.eos_token for t in chemprot_text(shared_data, 600)]
    done, out_dirs = 0, []
    for step in steps:
        train(model, tok, domain[(done * 16) % len(domain):] + domain, steps=step - done, seed=step, lr=lr)
        done = step
        path = out / f"checkpoint-{step}"
        model.save_pretrained(path)
        tok.save_pretrained(path)
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}), encoding="utf-8")
        out_dirs.append(path)
    return out_dirs
