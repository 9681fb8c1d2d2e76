"""The hf engine against lm-evaluation-harness's ``hf`` model (HFLM) on real task slices:
the same per-choice log-likelihoods (within 1e-4) and the same accuracy, with shared-prefix
scoring on and off, with few-shot contexts, and when inputs are cut to the model window."""

from __future__ import annotations

import numpy as np
import pytest

from dabench.engines.base import ScoreRequest
from dabench.engines.hf import HFEngine
from dabench.prompts import target_text
from dabench.registry import get_registry
from dabench.runner import plan_task


def _task(name, shared_data, *, limit, shots=0):
    spec = get_registry().get(name)
    # the shared data has no train files: shots come from the evaluation split, by explicit choice
    plan = plan_task(spec, shared_data, limit=limit, shots=shots, shots_split=spec.eval_split if shots else None)
    conts = tuple(target_text(spec, plan.template, lab) for lab in spec.labels)
    return plan, [ScoreRequest(c, conts) for c in plan.contexts()]


def _lmeval_scores(model_dir, requests, *, batch_size, max_length=None):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(model_dir), device="cpu", batch_size=batch_size, dtype="float32", max_length=max_length)
    inst = [Instance("loglikelihood", {}, (r.context, c), j) for r in requests for j, c in enumerate(r.continuations)]
    res = lm.loglikelihood(inst, disable_tqdm=True)
    k = len(requests[0].continuations)
    return np.array([x[0] for x in res]).reshape(len(requests), k)


@pytest.fixture(scope="module")
def base_engine(lm_pair):
    return HFEngine(str(lm_pair[0]), batch_size=8)


@pytest.mark.parametrize("task,shots,limit", [("chemprot", 0, 48), ("sst2", 2, 40), ("rte", 0, 30)])
def test_loglikelihoods_match_lmeval(base_engine, lm_pair, shared_data, task, shots, limit):
    plan, reqs = _task(task, shared_data, limit=limit, shots=shots)
    ref = _lmeval_scores(lm_pair[0], reqs, batch_size=8)
    for shared in (True, False):
        base_engine.shared_prefix = shared
        ours = np.array(base_engine.loglikelihood(reqs))
        assert np.abs(ours - ref).max() < 1e-4, (shared, np.abs(ours - ref).max())
        gold = plan.references()
        assert (ours.argmax(1) == gold).mean() == (ref.argmax(1) == gold).mean()
        assert (ours.argmax(1) == ref.argmax(1)).all()
    base_engine.shared_prefix = True


def test_truncated_inputs_match_lmeval(lm_pair, shared_data):
    """With a 48-token window most ChemProt inputs are cut from the left, as lm-eval cuts them."""
    _, reqs = _task("chemprot", shared_data, limit=12)
    eng = HFEngine(str(lm_pair[0]), batch_size=4, max_length=48)
    ours = np.array(eng.loglikelihood(reqs))
    ref = _lmeval_scores(lm_pair[0], reqs, batch_size=4, max_length=48)
    assert np.abs(ours - ref).max() < 1e-4


def test_batch_size_does_not_change_scores(lm_pair, base_engine, shared_data):
    _, reqs = _task("chemprot", shared_data, limit=20)
    a = np.array(base_engine.loglikelihood(reqs))
    one = HFEngine(str(lm_pair[0]), batch_size=1)
    b = np.array(one.loglikelihood(reqs))
    assert np.abs(a - b).max() < 1e-4


def test_empty_context_and_progress(base_engine):
    seen = []
    out = base_engine.loglikelihood([ScoreRequest("", (" inhibitor", " agonist")), ScoreRequest("The", (" cat",))],
                                    progress=seen.append)
    assert sum(seen) == 2
    enc = base_engine.encoder
    ids = enc.encode(" inhibitor", add_special_tokens=False)
    import torch

    with torch.inference_mode():
        full = [enc.prefix_token_id] + ids
        logits = base_engine.model(torch.tensor([full[:-1]])).logits[0].log_softmax(-1)
        ref = float(logits[torch.arange(len(ids)), torch.tensor(ids)].sum())
    assert out[0][0] == pytest.approx(ref, abs=1e-4)
    assert len(out[1]) == 1 and out[1][0] < 0
