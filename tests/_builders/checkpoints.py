"""Checkpoints of every kind users bring, built from the tiny models: a LoRA adapter,
Lightning / plain-state-dict / safetensors weight files, a config-only dir for ``--arch``, and
a bare encoder without its LM head."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from tests._builders.text import chemprot_text
from tests._builders.train import train


def build_lora(base_dir: Path, out: Path, shared_data: Path, *, steps: int = 12) -> Path:
    """A LoRA adapter on ``base_dir`` trained a few steps on ChemProt text."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base_dir)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], lora_dropout=0.0, task_type="CAUSAL_LM",
                     fan_in_fan_out=True)
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), cfg)
    train(peft_model, tok, chemprot_text(shared_data, 200), steps=steps, seed=3, batch_size=8, lr=2e-2)
    peft_model.save_pretrained(out)
    return out


def state_dict(model_dir: Path) -> dict[str, torch.Tensor]:
    """The causal LM's weights in ``model_dir`` as a state dict of contiguous copies."""
    from transformers import AutoModelForCausalLM

    return {k: v.clone().contiguous() for k, v in AutoModelForCausalLM.from_pretrained(model_dir).state_dict().items()}


def save_lightning(state: dict[str, torch.Tensor], path: Path) -> Path:
    """``state`` as a PyTorch Lightning checkpoint (``state_dict`` with a ``model.`` prefix)."""
    lightning: dict[str, Any] = {
        "epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in state.items()},
        "loops": {}, "callbacks": {}, "optimizer_states": [], "lr_schedulers": [],
        "hyper_parameters": {"lr": 3e-3, "name": "gpt2-tiny"},
    }
    torch.save(lightning, path)
    return path


def write_weight_files(model_dir: Path, out: Path) -> dict[str, Path]:
    """The weights of ``model_dir`` as a Lightning .ckpt (``model.`` prefix), a plain .pt
    state dict (``module.`` prefix), a bare .safetensors state dict, a corrupt .ckpt and a
    state dict whose embedding has the wrong shape."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = state_dict(model_dir)
    files = {
        "lightning": save_lightning(state, out / "epoch=3-step=120.ckpt"),
        "plain": out / "weights.pt",
        "safetensors": out / "weights.safetensors",
        "corrupt": out / "corrupt.ckpt",
        "wrong_shape": out / "wrong.pt",
    }
    torch.save({f"module.{k}": v for k, v in state.items()}, files["plain"])
    save_file({k: v for k, v in state.items() if k != "lm_head.weight"}, str(files["safetensors"]))
    data = files["lightning"].read_bytes()
    files["corrupt"].write_bytes(data[: len(data) // 3])
    bad = dict(state)
    key = next(k for k in bad if k.endswith("wte.weight"))
    bad[key] = torch.zeros(bad[key].shape[0] + 5, bad[key].shape[1])
    torch.save(bad, files["wrong_shape"])
    return files


def arch_dir(model_dir: Path, out: Path) -> Path:
    """Config + tokenizer of ``model_dir`` without weights: what --arch names."""
    out.mkdir(parents=True, exist_ok=True)
    for p in model_dir.iterdir():
        if p.suffix == ".json" or p.name.startswith("tokenizer"):
            shutil.copy(p, out / p.name)
    return out


def build_encoder_only(pair_base: Path, out: Path) -> Path:
    """The base's encoder saved as a bare BertModel (no MLM head), like the MiniLM package."""
    from transformers import AutoModel

    AutoModel.from_pretrained(pair_base).save_pretrained(out)
    for p in pair_base.iterdir():
        if p.name.startswith(("tokenizer", "special_tokens", "vocab")):
            shutil.copy(p, out / p.name)
    return out
