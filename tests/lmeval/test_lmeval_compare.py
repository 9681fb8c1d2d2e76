"""``dabench lmeval compare``: lm-eval tasks for two checkpoints through engines and store,
equal to pairing two lm-eval CLI runs, and a re-run loads no model."""

from __future__ import annotations

import json

import pytest

from tests.lmeval.conftest import LIMIT


def test_lmeval_compare_equals_pairing_cli_runs(lm_pair, lmeval_tasks, lmeval_outputs, tmp_path, capsys, monkeypatch):
    from dabench.cli import lmeval_cmd, main  # noqa: F401
    from dabench.lmeval import compare_from_lmeval

    base, adapted = lm_pair
    args = ["lmeval", "compare", str(base), str(adapted), "--tasks", "lmeval:dab_chemprot,lmeval:dab_sst2",
            "--include-path", str(lmeval_tasks), "--limit", str(LIMIT), "--resamples", "500", "--batch-size", "8",
            "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "o"), "--json"]
    assert main(args) == 0
    ours = json.loads(capsys.readouterr().out)
    ref = compare_from_lmeval(lmeval_outputs["base"], lmeval_outputs["adapted"],
                              tasks=["dab_chemprot", "dab_sst2"], resamples=500).to_dict()
    for a, b in zip(ours["tasks"], ref["tasks"]):
        assert a["task"] == b["task"] and a["n"] == b["n"] == LIMIT
        for k in ("base", "adapted", "delta", "ci", "p_value", "p_adjusted", "verdict"):
            assert a[k] == pytest.approx(b[k]), k

    import dabench.handles as pipeline

    loads = []
    real = pipeline.load_engine
    monkeypatch.setattr(pipeline, "load_engine", lambda *a, **k: loads.append(a) or real(*a, **k))
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert loads == []  # everything came from the store
    assert [t["base"] for t in again["tasks"]] == [t["base"] for t in ours["tasks"]]


def test_lmeval_tasks_mix_with_native_tasks_in_dabench_compare(lm_pair, lmeval_tasks, shared_data, tmp_path, capsys):
    """`dabench compare --tasks sst2,lmeval:dab_sst2`: each part exactly as alone, one Holm family."""
    from statsmodels.stats.multitest import multipletests

    import dabench
    from dabench.cli import main
    from dabench.lmeval import compare_lmeval_tasks

    base, adapted = lm_pair
    opts = dict(limit=LIMIT, resamples=500, store_path=tmp_path / "s.sqlite", progress=False)
    out = tmp_path / "o"
    assert main(["compare", str(base), str(adapted), "--tasks", "sst2,lmeval:dab_sst2", "--data-dir", str(shared_data),
                 "--lmeval-include-path", str(lmeval_tasks), "--limit", str(LIMIT), "--resamples", "500",
                 "--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--no-progress"]) == 0
    mixed = json.loads((out / "comparison.json").read_text())
    assert [t["task"] for t in mixed["tasks"]] == ["sst2", "lmeval:dab_sst2"]
    assert mixed["config"]["tasks_by_regime"] == {"prompt": ["sst2"], "lm-eval": ["lmeval:dab_sst2"]}
    assert mixed["config"]["lmeval_include_path"] == [str(lmeval_tasks)]
    alone = {t.task: t for t in dabench.compare(str(base), str(adapted), ["sst2"], data_dir=shared_data, **opts).tasks}
    alone.update({t.task: t for t in compare_lmeval_tasks(str(base), str(adapted), ["lmeval:dab_sst2"],
                                                          include_path=[lmeval_tasks], limit=LIMIT, resamples=500,
                                                          store_path=tmp_path / "s.sqlite").tasks})
    for t in mixed["tasks"]:
        assert (t["delta"], t["ci"], t["p_value"]) == (alone[t["task"]].delta, alone[t["task"]].ci,
                                                        alone[t["task"]].p_value)
    holm = multipletests([t["p_value"] for t in mixed["tasks"]], method="holm")[1]
    assert [t["p_adjusted"] for t in mixed["tasks"]] == pytest.approx(list(holm))
    capsys.readouterr()


def test_a_mixed_run_loads_each_checkpoint_once_per_side(lm_pair, lmeval_tasks, shared_data, tmp_path, monkeypatch):
    """Prompted + intrinsic + lm-eval tasks in one `dabench.compare`: the kinds run side by side on one
    model handle per side, so each checkpoint's weights load once (they loaded three times when each
    kind ran its own pipeline); the numbers equal the kinds run alone, in one Holm family."""
    from statsmodels.stats.multitest import multipletests

    import dabench
    from dabench.engines import checkpoints as ckpts
    from dabench.lmeval import compare_lmeval_tasks

    base, adapted = lm_pair
    loads: list[str] = []
    real = ckpts.load_model

    def counting(ck, *a, **k):
        loads.append(str(ck.location))
        return real(ck, *a, **k)

    monkeypatch.setattr(ckpts, "load_model", counting)
    opts = dict(data_dir=shared_data, limit=LIMIT, resamples=500, progress=False)
    mixed = dabench.compare(str(base), str(adapted), ["sst2", "sst2_text_ppl", "lmeval:dab_sst2"],
                            lmeval_include_path=[lmeval_tasks], store_path=tmp_path / "mixed.sqlite", **opts)
    assert sorted(loads) == sorted([str(base), str(adapted)])
    assert mixed.config["tasks_by_regime"] == {"prompt": ["sst2"], "lm-eval": ["lmeval:dab_sst2"],
                                               "intrinsic": ["sst2_text_ppl"]}
    alone = {}
    for comp in (dabench.compare(str(base), str(adapted), ["sst2"], store_path=tmp_path / "a.sqlite", **opts),
                 dabench.compare(str(base), str(adapted), ["sst2_text_ppl"], store_path=tmp_path / "b.sqlite", **opts),
                 compare_lmeval_tasks(str(base), str(adapted), ["lmeval:dab_sst2"], include_path=[lmeval_tasks],
                                      limit=LIMIT, resamples=500, store_path=tmp_path / "c.sqlite")):
        alone.update({t.task: t for t in comp.tasks})
    for t in mixed.tasks:
        a = alone[t.task]
        assert (t.base, t.adapted, t.delta, t.ci, t.p_value) == (a.base, a.adapted, a.delta, a.ci, a.p_value), t.task
    holm = multipletests([t.p_value for t in mixed.tasks], method="holm")[1]
    assert [t.p_adjusted for t in mixed.tasks] == pytest.approx(list(holm))
