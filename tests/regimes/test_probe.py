"""Linear-probe regime: features and predictions against a direct transformers + scikit-learn reference."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dabench import compare
from dabench.regimes import Backbone, extract_features, regime_info
from dabench.regimes.data import load_regime_data
from dabench.registry import get_registry
from dabench.comparison import check_comparison
from dabench.store import Store
from tests.regimes import TASKS_DIR

OPTS = dict(limit=80, train_limit=300, dev_limit=60, max_length=64, resamples=2000, tasks_dirs=[TASKS_DIR])


def _reference_features(model_dir, texts):
    """Mean of the last hidden states over each text's tokens, one text at a time (no padding)."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    out = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, truncation=True, max_length=64, return_tensors="pt")
            out.append(model(**enc).last_hidden_state[0].mean(0).double().numpy())
    return np.stack(out)


@pytest.fixture(scope="module")
def probed(bert_pair, shared_data, tmp_path_factory):
    base, adapted = bert_pair
    store = tmp_path_factory.mktemp("probe") / "s.sqlite"
    comp = compare(str(base), str(adapted), ["chemprot_inhibitor"], regime="probe", data_dir=shared_data,
                   store_path=store, progress=False, **OPTS)
    return comp, store


def test_probe_matches_a_direct_sklearn_probe(probed, bert_pair, shared_data):
    comp, store_path = probed
    spec = get_registry([TASKS_DIR]).get("chemprot_inhibitor")
    data = load_regime_data(spec, shared_data, limit=80, train_limit=300, dev_limit=60, need_dev=False)
    info = regime_info(comp, "chemprot_inhibitor")
    for role, model_dir in zip(("base", "adapted"), bert_pair):
        backbone = Backbone(str(model_dir))
        plans = {"train": data.train, "dev": data.dev, "test": data.test}
        ours = {name: extract_features(backbone, backbone.encode(plan.examples, ["text"], spec.labels, 64), "mean", 16)
                for name, plan in plans.items()}
        # features: the mean of the last hidden states, as transformers computes them one text at a time
        reference = _reference_features(model_dir, [ex.inputs["text"] for ex in data.test.examples])
        np.testing.assert_allclose(ours["test"], reference, atol=2e-5)
        # head: C chosen on dev by the task metric (ties: smaller C), as a plain scikit-learn pipeline does
        y = {name: plan.references() for name, plan in plans.items()}
        dev_scores, fitted = {}, {}
        for c in (0.01, 0.1, 1.0, 10.0):
            fitted[c] = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000)).fit(ours["train"], y["train"])
            dev_scores[c] = accuracy_score(y["dev"], fitted[c].predict(ours["dev"]))
        best = max(dev_scores, key=lambda c: (dev_scores[c], -c))
        run = info["runs"][role][0]
        assert run["C"] == best
        assert run["dev_scores"] == pytest.approx({repr(c): s for c, s in dev_scores.items()})
        with Store(store_path) as st:
            stored = st.get(comp.signature["fingerprints"][role], comp.signature["run_keys"]["chemprot_inhibitor"])
        pred = np.array([stored[ex.id]["pred"] for ex in data.test.examples])
        np.testing.assert_array_equal(pred, fitted[best].predict(ours["test"]))
        assert info[f"{role}_scores"] == [pytest.approx(accuracy_score(y["test"], pred))]


def test_probe_comparison_contract(probed):
    comp, _ = probed
    data = check_comparison(json.loads(comp.to_json()))
    t = comp.task("chemprot_inhibitor")
    assert data["config"]["regime"] == "probe" and data["config"]["seeds"] == [0]
    assert set(t.p_values) == {"bootstrap", "permutation", "mcnemar"} and t.p_value == t.p_values["permutation"]
    info = regime_info(comp, "chemprot_inhibitor")
    assert info["base_sd"] is None and info["base_mean"] == t.base and info["test"].startswith("paired permutation")


def test_identical_backbones_tie(bert_pair, shared_data, tmp_path):
    base, _ = bert_pair
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    comp = compare(str(base), str(copy), ["chemprot_inhibitor", "chemprot"], regime="probe",
                   data_dir=shared_data, store_path=tmp_path / "s.sqlite", progress=False, **OPTS)
    assert all(t.verdict == "tie" and t.delta == 0.0 and t.p_value == 1.0 for t in comp.tasks)


def test_probe_without_dev_split_uses_default_c(bert_pair, shared_data, tmp_path):
    spec = (TASKS_DIR / "chemprot_inhibitor.yaml").read_text().replace("validation_split: validation\n", "")
    extra = tmp_path / "tasks"
    extra.mkdir()
    (extra / "nodev.yaml").write_text(spec.replace("name: chemprot_inhibitor", "name: chemprot_nodev"))
    base, adapted = bert_pair
    comp = compare(str(base), str(adapted), ["chemprot_nodev"], regime="probe", data_dir=shared_data,
                   store_path=tmp_path / "s.sqlite", progress=False, **dict(OPTS, tasks_dirs=[extra]))
    info = regime_info(comp, "chemprot_nodev")
    run = info["runs"]["base"][0]
    assert info["dev_examples"] == 0 and run["C"] == 1.0 and run["dev_scores"] == {}
