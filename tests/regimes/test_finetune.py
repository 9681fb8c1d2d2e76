"""Fine-tuning regime end to end on tiny BERT backbones and the real ChemProt slices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from dabench.errors import DataError, TaskError
from dabench import compare
from dabench.regimes import META_ID, majority, regime_info, seed_list, slanted_triangular
from dabench.regimes.finetune import bucket_batches
from dabench.comparison import check_comparison
from dabench.stats import paired_test_seeds
from dabench.store import Store
from tests.regimes import FAST, TASKS_DIR

TASKS = ["chemprot_inhibitor", "chemprot"]


class Recorder:
    """A Progress that records every bar and how far it advanced; can interrupt on a bar."""

    def __init__(self, stop_at: str | None = None) -> None:
        self.bars: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.stop_at = stop_at

    def task(self, description: str, total: int):
        if self.stop_at is not None and description == self.stop_at:
            raise KeyboardInterrupt
        self.bars[description] = 0
        self.totals[description] = total

        def advance(n: int) -> None:
            self.bars[description] += n

        return advance

    def note(self, message: str) -> None:
        pass


@pytest.fixture(scope="module")
def finetuned(bert_pair, shared_data, tmp_path_factory):
    base, adapted = bert_pair
    store = tmp_path_factory.mktemp("ft") / "store.sqlite"
    rec = Recorder()
    comp = compare(str(base), str(adapted), TASKS, regime="finetune", data_dir=shared_data, store_path=store,
                   progress=rec, **FAST)
    return comp, store, rec


def _stored_predictions(store_path: Path, comp, task: str, role: str) -> dict[int, dict]:
    key = comp.signature["run_keys"][task]
    fp = comp.signature["fingerprints"][role]
    with Store(store_path) as store:
        return {s: store.get(fp, key, seed=s) for s in comp.config["seeds"]}


def test_finetune_comparison_contract(finetuned):
    comp, _, _ = finetuned
    data = check_comparison(json.loads(comp.to_json()))
    assert data["config"]["regime"] == "finetune" and data["config"]["seeds"] == [0, 1]
    assert [t["task"] for t in data["tasks"]] == TASKS
    for t in comp.tasks:
        info = regime_info(comp, t.task)
        assert t.n == 80 and info["train_examples"] == 240 and info["dev_examples"] == 60
        assert t.base == pytest.approx(np.mean(info["base_scores"])) and t.adapted == pytest.approx(np.mean(info["adapted_scores"]))
        assert info["base_sd"] == pytest.approx(np.std(info["base_scores"], ddof=1))
        assert t.delta == pytest.approx(t.adapted - t.base)
        assert t.ci[0] <= t.delta <= t.ci[1] and 0 < t.p_value <= t.p_adjusted <= 1
        assert [r["seed"] for r in info["runs"]["base"]] == [0, 1]
        assert all(1 <= r["best_epoch"] <= r["epochs_run"] <= 6 for r in info["runs"]["adapted"])


def test_scores_and_statistics_from_stored_predictions(finetuned, shared_data):
    """Per-seed scores are sklearn's on the stored predictions; the test is paired_test_seeds on them."""
    from dabench.metrics import task_metric
    from dabench.registry import get_registry
    from dabench.runner import plan_task

    comp, store_path, _ = finetuned
    for name, sk in (("chemprot_inhibitor", accuracy_score), ("chemprot", lambda y, p: f1_score(y, p, average="micro", labels=range(13)))):
        spec = get_registry([TASKS_DIR]).get(name)
        plan = plan_task(spec, shared_data, limit=80)
        refs = plan.references()
        preds = {}
        for role in ("base", "adapted"):
            stored = _stored_predictions(store_path, comp, name, role)
            assert all(META_ID in rec for rec in stored.values())
            preds[role] = np.array([[stored[s][ex.id]["pred"] for ex in plan.examples] for s in (0, 1)])
            info = regime_info(comp, name)
            assert info[f"{role}_scores"] == pytest.approx([sk(refs, p) for p in preds[role]])
        metric = task_metric(spec, spec.metric)
        res = paired_test_seeds(metric, np.stack([metric.stats(p, refs) for p in preds["base"]]),
                                np.stack([metric.stats(p, refs) for p in preds["adapted"]]), resamples=2000, seed=0)
        t = comp.task(name)
        assert t.ci == pytest.approx(list(res.ci)) and t.p_value == pytest.approx(res.p_value)
        if name == "chemprot_inhibitor":  # the binary task is learnt: some predictions are not constant
            assert any(len(np.unique(p)) == 2 for p in preds.values())


def test_progress_bars_per_seed_and_epoch(finetuned):
    _, _, rec = finetuned
    for role in ("base", "adapted"):
        for s in (0, 1):
            seed_bar = f"{role} · chemprot · seed {s}"
            assert rec.totals[seed_bar] == 6
            epochs = [d for d in rec.bars if d.startswith(seed_bar + " · epoch ")]
            assert epochs and epochs[0] == seed_bar + " · epoch 1"
            assert len(epochs) == rec.bars[seed_bar]
            # each epoch bar: 240/16 = 15 train batches + 1 dev batch, all done
            assert all(rec.bars[e] == rec.totals[e] == 16 for e in epochs)


def test_identical_backbones_tie_and_rerun_uses_the_store(bert_pair, shared_data, tmp_path):
    base, _ = bert_pair
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    rec = Recorder()
    comp = compare(str(base), str(copy), TASKS, regime="finetune", data_dir=shared_data,
                   store_path=tmp_path / "s.sqlite", progress=rec, **FAST)
    for t in comp.tasks:
        assert t.verdict == "tie" and t.delta == 0.0 and t.p_value == 1.0
        info = regime_info(comp, t.task)
        assert info["base_scores"] == info["adapted_scores"]
    # the copy has the base's fingerprint: its seeds come from the store, nothing is trained twice
    assert not any(d.startswith("adapted · ") and "epoch" in d for d in rec.bars)


def test_fixed_seeds_reproduce_predictions(bert_pair, shared_data, tmp_path, finetuned):
    """A fresh store, the same seeds: identical predictions, seed by seed."""
    comp1, store1, _ = finetuned
    base, adapted = bert_pair
    opts = dict(FAST, seeds=[1])
    comp2 = compare(str(base), str(adapted), ["chemprot_inhibitor"], regime="finetune", data_dir=shared_data,
                    store_path=tmp_path / "fresh.sqlite", progress=False, **opts)
    for role in ("base", "adapted"):
        first = _stored_predictions(store1, comp1, "chemprot_inhibitor", role)[1]
        with Store(tmp_path / "fresh.sqlite") as st:
            second = st.get(comp2.signature["fingerprints"][role], comp2.signature["run_keys"]["chemprot_inhibitor"], seed=1)
        first.pop(META_ID), second.pop(META_ID)
        assert first == second


def test_interrupted_finetune_resumes_at_the_seed_it_stopped_in(bert_pair, shared_data, tmp_path, finetuned):
    base, adapted = bert_pair
    store = tmp_path / "s.sqlite"
    args = (str(base), str(adapted), ["chemprot_inhibitor"])
    stop = Recorder(stop_at="adapted · chemprot_inhibitor · seed 1 · epoch 2")
    with pytest.raises(KeyboardInterrupt):
        compare(*args, regime="finetune", data_dir=shared_data, store_path=store, progress=stop, **FAST)
    assert "adapted · chemprot_inhibitor · seed 1 · epoch 1" in stop.bars
    resumed = Recorder()
    comp = compare(*args, regime="finetune", data_dir=shared_data, store_path=store, progress=resumed, **FAST)
    trained = sorted({d.split(" · epoch")[0] for d in resumed.bars if " · epoch " in d})
    assert trained == ["adapted · chemprot_inhibitor · seed 1"]  # base and adapted seed 0 came from the store
    full = finetuned[0].task("chemprot_inhibitor")
    t = comp.task("chemprot_inhibitor")
    assert (t.base, t.adapted, t.ci, t.p_value) == (full.base, full.adapted, full.ci, full.p_value)


def test_missing_splits_are_one_line_errors(bert_pair, shared_data, tmp_path):
    base, adapted = bert_pair
    with pytest.raises(DataError, match="glue/sst2/train.tsv"):
        compare(str(base), str(adapted), ["sst2"], regime="finetune", data_dir=shared_data, progress=False,
                store_path=tmp_path / "s.sqlite")
    spec = (TASKS_DIR / "chemprot_inhibitor.yaml").read_text().replace("validation_split: validation\n", "")
    spec = spec.replace("name: chemprot_inhibitor", "name: chemprot_nodev")
    extra = tmp_path / "tasks"
    extra.mkdir()
    (extra / "nodev.yaml").write_text(spec)
    with pytest.raises(TaskError, match="--patience 0"):
        compare(str(base), str(adapted), ["chemprot_nodev"], regime="finetune", data_dir=shared_data,
                progress=False, store_path=tmp_path / "s.sqlite", tasks_dirs=[extra])
    with pytest.raises(TaskError, match="--lr must be positive"):
        compare(str(base), str(adapted), ["chemprot"], regime="finetune", data_dir=shared_data, lr=-1.0,
                progress=False, store_path=tmp_path / "s.sqlite")
    with pytest.raises(TaskError, match="--regime"):
        compare(str(base), str(adapted), ["chemprot"], regime="zero-shot", progress=False)


def test_schedule_batches_and_votes():
    f = slanted_triangular(100, 0.06, 32.0)
    assert f(0) == pytest.approx(1 / 32) and f(6) == pytest.approx(1.0) and f(3) == pytest.approx((1 + 0.5 * 31) / 32)
    assert f(100) == pytest.approx(1 / 32) and f(53) == pytest.approx((1 + 0.5 * 31) / 32)
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=103)
    batches = bucket_batches(lengths, 16, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103)) and max(len(b) for b in batches) == 16
    assert majority(np.array([[0, 1, 2], [0, 2, 2], [1, 1, 0]]), 3).tolist() == [0, 1, 2]
    assert seed_list(3, 5) == [0, 1, 2] and seed_list([4, 7], 5) == [4, 7] and seed_list(None, 5) == list(range(5))
