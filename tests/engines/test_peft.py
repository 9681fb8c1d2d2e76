"""PEFT adapters: scores equal the merged model's, the base view equals the base model,
and a base-vs-adapter comparison loads the base weights once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dabench.engines import checkpoints as ckpts
from dabench.engines.base import ScoreRequest
from dabench.engines.hf import HFEngine
from dabench.errors import CheckpointError
from dabench.pipeline import compare
from dabench.prompts import target_text
from dabench.registry import get_registry
from dabench.runner import plan_task


def _requests(shared_data, limit=24):
    spec = get_registry().get("chemprot")
    plan = plan_task(spec, shared_data, limit=limit)
    conts = tuple(target_text(spec, plan.template, lab) for lab in spec.labels)
    return [ScoreRequest(c, conts) for c in plan.contexts()]


@pytest.fixture(scope="module")
def merged_dir(lora_adapter, lm_pair, tmp_path_factory):
    """Reference: the adapter merged into the base weights with peft's own merge."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("merged")
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(lm_pair[0]), str(lora_adapter))
    model.merge_and_unload().save_pretrained(out)
    AutoTokenizer.from_pretrained(lm_pair[0]).save_pretrained(out)
    return out


def test_adapter_resolves_base_from_config(lora_adapter, lm_pair):
    ck = ckpts.resolve(str(lora_adapter))
    assert ck.kind == "adapter" and ck.base is not None
    assert ck.base.location == lm_pair[0]
    assert ckpts.head_of(ck) == "causal"
    assert ckpts.fingerprint(ck) != ckpts.fingerprint(ck.base)


def test_adapter_and_base_view_scores(lora_adapter, merged_dir, lm_pair, shared_data):
    reqs = _requests(shared_data)
    adapter = HFEngine(str(lora_adapter), batch_size=8)
    merged = np.array(HFEngine(str(merged_dir), batch_size=8).loglikelihood(reqs))
    ours = np.array(adapter.loglikelihood(reqs))
    assert np.abs(ours - merged).max() < 1e-4
    base_ref = np.array(HFEngine(str(lm_pair[0]), batch_size=8).loglikelihood(reqs))
    view = adapter.base_view()
    assert view.model is adapter.model  # the same loaded weights
    assert view.fingerprint() == ckpts.fingerprint(ckpts.resolve(str(lm_pair[0])))
    assert np.abs(np.array(view.loglikelihood(reqs)) - base_ref).max() < 1e-5
    assert np.abs(ours - base_ref).max() > 1e-2  # the adapter changes the scores
    # switching the view off did not leave the adapter disabled
    assert np.abs(np.array(adapter.loglikelihood(reqs[:4])) - ours[:4]).max() < 1e-5


def test_compare_with_adapter_loads_base_once(lora_adapter, lm_pair, shared_data, tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM

    loads: list[str] = []
    real = AutoModelForCausalLM.from_pretrained

    def counting(*args, **kwargs):
        loads.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", counting)
    store = tmp_path / "s.sqlite"
    comp = compare(str(lm_pair[0]), str(lora_adapter), ["chemprot", "rte"], data_dir=shared_data, limit=20,
                   resamples=300, store_path=store, progress=False)
    assert loads == [str(lm_pair[0])]
    # the base side is the plain base model: a compare of base vs the adapted dir reuses its records
    loads.clear()
    comp2 = compare(str(lm_pair[0]), str(lm_pair[1]), ["chemprot", "rte"], data_dir=shared_data, limit=20,
                    resamples=300, store_path=store, progress=False)
    assert loads == [str(lm_pair[1])]
    assert comp.base.fingerprint == comp2.base.fingerprint
    assert [t.base for t in comp.tasks] == [t.base for t in comp2.tasks]


def test_adapter_with_missing_base_path_uses_compare_base(lora_adapter, lm_pair, tmp_path):
    moved = tmp_path / "adapter"
    shutil.copytree(lora_adapter, moved)
    cfg = json.loads((moved / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "/elsewhere/models/base"
    (moved / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="--adapter-base"):
        ckpts.resolve(str(moved))
    base = ckpts.resolve(str(lm_pair[0]))
    ck = ckpts.resolve_against_base(str(moved), base)
    assert ck.base == base and ckpts.shares_base(ck, base)


@pytest.fixture(scope="module")
def mismatched_adapter(lora_adapter, tmp_path_factory):
    """The adapter pointed at a GPT-2 of another width: its LoRA matrices cannot fit."""
    from tests._builders.models import gpt2

    root = tmp_path_factory.mktemp("mismatch")
    other = root / "other_base"
    gpt2(700, width=32, positions=64).save_pretrained(other)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        src = ckpts.resolve(str(lora_adapter)).base.location / name
        if src.exists():
            shutil.copy(src, other / name)
    bad = root / "adapter"
    shutil.copytree(lora_adapter, bad)
    cfg = json.loads((bad / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(other)
    (bad / "adapter_config.json").write_text(json.dumps(cfg))
    return bad


def test_adapter_whose_base_does_not_match(mismatched_adapter):
    with pytest.raises(CheckpointError, match="adapter does not fit its base model"):
        HFEngine(str(mismatched_adapter))


def test_adapter_mismatch_exit_code(mismatched_adapter, lm_pair, shared_data, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dabench", "compare", str(lm_pair[0]), str(mismatched_adapter),
                           "--tasks", "rte", "--data-dir", str(shared_data), "--limit", "4", "--store",
                           str(tmp_path / "s.sqlite"), "--no-progress", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "adapter does not fit its base model" in proc.stderr
