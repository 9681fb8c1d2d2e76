"""Intrinsic comparisons end to end (dabench.compare): masked LMs (pseudo-perplexity) and causal LMs (perplexity)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from dabench.errors import CheckpointError, PairingError
from dabench import compare
from dabench.intrinsic import get_intrinsic_registry, load_documents, pseudo_nll
from dabench.intrinsic import compare as intrinsic_compare
from dabench.regimes import regime_info
from dabench.comparison import check_comparison

TASKS = ["chemprot_text_ppl", "sst2_text_ppl"]


@pytest.fixture(scope="module")
def mlm_comparison(bert_pair, shared_data, tmp_path_factory):
    base, adapted = bert_pair
    store = tmp_path_factory.mktemp("intrinsic") / "s.sqlite"
    comp = compare(str(base), str(adapted), TASKS, data_dir=shared_data, limit=30, resamples=2000,
                   store_path=store, progress=False, domain="biomed")
    return comp, store


def test_pseudo_perplexity_comparison(mlm_comparison, bert_pair, shared_data):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    comp, _ = mlm_comparison
    data = check_comparison(json.loads(comp.to_json()))
    assert data["config"]["regime"] == "intrinsic"
    for name in TASKS:
        docs = load_documents(get_intrinsic_registry().get(name), shared_data, limit=30)
        t = comp.task(name)
        info = regime_info(comp, name)
        assert t.metric == "neg_log_ppl" and t.n == 30 and info["measure"] == "pseudo_perplexity"
        for role, model_dir in zip(("base", "adapted"), bert_pair):
            model = AutoModelForMaskedLM.from_pretrained(model_dir).eval()
            scores = pseudo_nll(model, AutoTokenizer.from_pretrained(model_dir), docs.texts, max_length=128)
            nll, n = sum(s.nll for s in scores), sum(s.tokens for s in scores)
            assert getattr(t, role) == pytest.approx(-nll / n, rel=1e-6)
            assert info["perplexity"][role] == pytest.approx(math.exp(nll / n), rel=1e-6)
            assert t.secondary["perplexity"][role] == info["perplexity"][role]
        assert t.ci[0] <= t.delta <= t.ci[1]
    chem, sst = comp.task("chemprot_text_ppl"), comp.task("sst2_text_ppl")
    # the adapted model continued pretraining on ChemProt training text: closer to ChemProt test text
    assert chem.category == "in-domain" and sst.category == "out-of-domain"
    assert chem.delta > 0 and chem.verdict == "win"
    assert regime_info(comp, "chemprot_text_ppl")["perplexity"]["ratio"] < 1


def test_rerun_reads_the_store(mlm_comparison, bert_pair, shared_data, monkeypatch):
    comp, store = mlm_comparison

    def no_model(self):
        raise AssertionError("a model was loaded although every document is stored")

    monkeypatch.setattr(intrinsic_compare._LM, "model", no_model)
    again = compare(str(bert_pair[0]), str(bert_pair[1]), TASKS, regime="intrinsic", data_dir=shared_data,
                    limit=30, resamples=2000, store_path=store, progress=False, domain="biomed")
    assert [(t.base, t.adapted, t.ci, t.p_value) for t in again.tasks] == [(t.base, t.adapted, t.ci, t.p_value) for t in comp.tasks]


def test_identical_models_tie(bert_pair, shared_data, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bert_pair[1], copy)
    comp = compare(str(bert_pair[1]), str(copy), TASKS, data_dir=shared_data, limit=12, resamples=500,
                   store_path=tmp_path / "s.sqlite", progress=False)
    assert all(t.delta == 0.0 and t.p_value == 1.0 and t.verdict == "tie" for t in comp.tasks)
    # per-document rows: one per scored document, the two scores equal, so nothing flips
    for t in comp.tasks:
        assert len(t.examples) == t.n and all(r["base_score"] == r["adapted_score"] for r in t.examples)


def test_causal_lm_perplexity(lm_pair, shared_data, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, adapted = lm_pair
    comp = compare(str(base), str(adapted), ["chemprot_text_ppl"], data_dir=shared_data, limit=20,
                   resamples=1000, store_path=tmp_path / "s.sqlite", progress=False)
    t = comp.task("chemprot_text_ppl")
    assert regime_info(comp, t.task)["measure"] == "perplexity"
    docs = load_documents(get_intrinsic_registry().get("chemprot_text_ppl"), shared_data, limit=20)
    tok, model = AutoTokenizer.from_pretrained(adapted), AutoModelForCausalLM.from_pretrained(adapted).eval()
    import torch

    nll = n = 0.0
    with torch.no_grad():
        for text in docs.texts:
            ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
            nll += model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)
            n += ids.shape[1] - 1
    assert t.adapted == pytest.approx(-nll / n, rel=1e-4)
    # each document's row holds its own negative log-likelihood per token
    row_nll = {r["id"]: -r["adapted_score"] for r in t.examples}
    with torch.no_grad():
        first = docs.documents[0]
        ids = torch.tensor([[tok.bos_token_id] + tok(first.text, add_special_tokens=False)["input_ids"]])
        assert row_nll[first.id] == pytest.approx(model(input_ids=ids, labels=ids).loss.item(), rel=1e-4)
    assert t.delta > 0  # adapted = base + continued pretraining on ChemProt text


def test_unusable_pairs_are_one_line_errors(bert_pair, lm_pair, shared_data, tmp_path):
    from tests._builders.checkpoints import build_encoder_only
    from tests._builders.models import bert
    from tests._builders.text import build_wordpiece, general_text

    encoder = build_encoder_only(bert_pair[0], tmp_path / "encoder")
    with pytest.raises(CheckpointError, match="no language-modelling head"):
        compare(str(encoder), str(bert_pair[1]), TASKS, data_dir=shared_data, limit=5, progress=False,
                store_path=tmp_path / "s.sqlite")
    with pytest.raises(PairingError, match="causal LMs or two masked LMs"):
        compare(str(bert_pair[0]), str(lm_pair[0]), TASKS, data_dir=shared_data, limit=5, progress=False,
                store_path=tmp_path / "s.sqlite")
    # another vocabulary: per-token perplexities are not comparable, per-byte ones are
    from transformers import BertForMaskedLM

    other = tmp_path / "other"
    tok = build_wordpiece(general_text(shared_data), other, vocab_size=600)
    bert(BertForMaskedLM, len(tok), width=32, layers=1, heads=2).save_pretrained(other)
    with pytest.raises(PairingError, match="unit: byte"):
        compare(str(bert_pair[0]), str(other), ["sst2_text_ppl"], data_dir=shared_data, limit=5,
                progress=False, store_path=tmp_path / "s.sqlite")
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "bytes.yml").write_text("name: sst2_bytes\ntext_of: {task: sst2}\nunit: byte\n")
    comp = compare(str(bert_pair[0]), str(other), ["sst2_bytes"], data_dir=shared_data, limit=5,
                   resamples=200, progress=False, store_path=tmp_path / "s.sqlite", tasks_dirs=[spec_dir])
    info = regime_info(comp, "sst2_bytes")
    assert info["unit"] == "byte" and info["units"]["base"] == info["units"]["adapted"] == sum(
        len(d.text.encode()) for d in load_documents(get_intrinsic_registry([spec_dir]).get("sst2_bytes"), shared_data, limit=5).documents)
    assert np.isfinite(comp.task("sst2_bytes").delta)
