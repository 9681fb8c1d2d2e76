"""The vllm engine agrees with the hf engine: log-likelihoods (within 1e-4), predictions,
greedy generations, and a LoRA adapter served by a LoRA request with its base on the same
vLLM engine. Runs where vllm is importable (its own virtualenv on CPU, see docs/engines.md);
skipped elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

vllm = pytest.importorskip("vllm")

from dabench.engines.base import ScoreRequest  # noqa: E402
from dabench.engines.hf import HFEngine  # noqa: E402
from dabench.prompts import target_text  # noqa: E402
from dabench.registry import get_registry  # noqa: E402
from dabench.runner import plan_task  # noqa: E402


def _requests(shared_data, limit=16):
    spec = get_registry().get("chemprot")
    plan = plan_task(spec, shared_data, limit=limit)
    conts = tuple(target_text(spec, plan.template, lab) for lab in spec.labels)
    return plan, [ScoreRequest(c, conts) for c in plan.contexts()]


@pytest.fixture(scope="module")
def llama_pair(lm_pair, tmp_path_factory):
    from tests._builders.models import build_llama_pair

    return build_llama_pair(lm_pair[0], tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="module")
def vllm_adapter_engine(llama_pair):
    from dabench.engines import load_engine

    return load_engine("vllm", str(llama_pair[1]), dtype="float32", device="cpu", enforce_eager=True)


def test_vllm_matches_hf_on_base_and_adapter(vllm_adapter_engine, llama_pair, shared_data):
    plan, reqs = _requests(shared_data)
    base_view = vllm_adapter_engine.base_view()
    assert base_view.llm is vllm_adapter_engine.llm  # one vLLM engine for both sides
    ref_base = np.array(HFEngine(str(llama_pair[0])).loglikelihood(reqs))
    ref_adapter = np.array(HFEngine(str(llama_pair[1])).loglikelihood(reqs))
    assert np.abs(ref_adapter - ref_base).max() > 1e-2  # the adapter changes the scores
    got_base = np.array(base_view.loglikelihood(reqs))
    got_adapter = np.array(vllm_adapter_engine.loglikelihood(reqs))
    assert np.abs(got_base - ref_base).max() < 1e-4
    assert np.abs(got_adapter - ref_adapter).max() < 1e-4
    gold = plan.references()
    assert (got_adapter.argmax(1) == gold).mean() == (ref_adapter.argmax(1) == gold).mean()
    assert vllm_adapter_engine.fingerprint() != base_view.fingerprint()


def test_vllm_greedy_generation_matches_hf(vllm_adapter_engine, llama_pair, shared_data):
    _, reqs = _requests(shared_data, limit=6)
    prompts = [r.context for r in reqs]
    for engine, ref_dir in ((vllm_adapter_engine.base_view(), llama_pair[0]), (vllm_adapter_engine, llama_pair[1])):
        ref = HFEngine(str(ref_dir), batch_size=1).generate(prompts, stop=["\n"], max_new_tokens=6)
        assert engine.generate(prompts, stop=["\n"], max_new_tokens=6) == ref


def test_compare_with_vllm_engine_matches_hf(llama_pair, shared_data, tmp_path):
    """A whole comparison on vLLM (one engine for base and adapter) gives the hf engine's scores."""
    from dabench.pipeline import compare

    kw = dict(data_dir=shared_data, limit=12, resamples=300, progress=False)
    ours = compare(str(llama_pair[0]), str(llama_pair[1]), ["chemprot", "rte"], engine="vllm",
                   engine_options={"dtype": "float32", "device": "cpu", "enforce_eager": True,
                                   "gpu_memory_utilization": 0.3},
                   store_path=tmp_path / "v.sqlite", **kw)
    ref = compare(str(llama_pair[0]), str(llama_pair[1]), ["chemprot", "rte"], store_path=tmp_path / "h.sqlite", **kw)
    assert [(t.base, t.adapted) for t in ours.tasks] == [(t.base, t.adapted) for t in ref.tasks]
    assert ours.base.fingerprint == ref.base.fingerprint and ours.adapted.fingerprint == ref.adapted.fingerprint
