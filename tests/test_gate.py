"""The gate: pure decisions on comparison dicts (checked against statsmodels' Holm and
scipy's normal distribution), and ``dabench gate`` end to end on stored comparisons, with
the compare step replaced by a stub, and (slow) on the demo's real checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from dabench.errors import DabenchError
from dabench.gate import EXIT_FAIL, EXIT_PASS, evaluate, holm, shifted_pvalue
from tests.fake_comparison import fake_comparison, fake_task, three_task_comparison


def _main(args: list[str]) -> int:
    from dabench.cli import gate_cmd, main  # noqa: F401  (registers the command)

    return main(args)


# ---------------------------------------------------------------- regression, margin 0


def test_regression_fails_exactly_the_holm_losses():
    comp = three_task_comparison()
    res = evaluate(comp)
    assert res.mode == "regression" and res.margin == 0.0 and res.alpha == 0.05
    ref = multipletests([t["p_value"] for t in comp["tasks"]], method="holm")[1]
    assert [t.p_holm for t in res.tasks] == pytest.approx(list(ref))
    assert res.failed_tasks == ["trex"]
    assert [t.task for t in res.tasks if not t.passed] == [t["task"] for t in comp["tasks"] if t["verdict"] == "loss"]
    assert not res.passed and res.exit_code == EXIT_FAIL == 1
    assert "trex" in res.summary() and "FAILED" in res.summary()
    trex = res.tasks[2]
    assert "significantly worse" in trex.reason and "Holm-adjusted p = 0.0018" in trex.reason


def test_significant_gain_never_fails():
    comp = fake_comparison([fake_task("a", delta=0.2, ci=(0.15, 0.25), p_value=1e-4)])
    res = evaluate(comp)
    assert res.passed and res.exit_code == EXIT_PASS == 0
    assert res.tasks[0].p_holm == pytest.approx(1e-4)


def test_regression_uses_holm_even_when_the_comparison_used_bh():
    tasks = [fake_task(n, delta=-0.03, ci=(-0.055, -0.005), p_value=p) for n, p in (("a", 0.02), ("b", 0.03), ("c", 0.04))]
    comp = fake_comparison(tasks, correction="bh")
    assert [t["verdict"] for t in comp["tasks"]] == ["loss", "loss", "loss"]  # BH: all 0.04
    res = evaluate(comp)
    assert [t.p_holm for t in res.tasks] == pytest.approx([0.06, 0.06, 0.06])
    assert res.passed


def test_task_selection_defines_the_holm_family():
    tasks = [fake_task("a", delta=-0.03, ci=(-0.055, -0.005), p_value=0.03), fake_task("b", p_value=0.9)]
    comp = fake_comparison(tasks)
    assert evaluate(comp).passed  # Holm over two: 0.06
    alone = evaluate(comp, tasks=["a"])
    assert [t.task for t in alone.tasks] == ["a"] and alone.tasks[0].p_holm == pytest.approx(0.03)
    assert not alone.passed


def test_alpha_changes_the_decision():
    comp = three_task_comparison()
    assert evaluate(comp, alpha=0.001).passed  # trex: Holm p 0.0018 > 0.001
    assert not evaluate(comp, alpha=0.01).passed


def test_candidate_equal_to_baseline_passes_both_modes():
    tasks = [fake_task(n, delta=0.0, ci=(0.0, 0.0), p_value=1.0, category=c)
             for n, c in (("a", "in-domain"), ("b", "out-of-domain"))]
    comp = fake_comparison(tasks)
    assert evaluate(comp).passed
    assert evaluate(comp, margin=0.01).passed
    assert evaluate(comp, mode="non-inferiority", margin=0.01).passed


# ---------------------------------------------------------------- regression, margin > 0


def test_shifted_pvalue_matches_normal_reference():
    delta, ci, m = -0.05, (-0.08, -0.03), 0.01
    se = (ci[1] - delta) / norm.ppf(0.975)  # upper half-width: the side of the null (Δ < −M)
    assert shifted_pvalue(delta, ci, m, 0.05) == pytest.approx(2 * norm.sf((-m - delta) / se))
    # Δ above −M: the lower half-width is the side of the null
    se_lo = (0.01 - (-0.02)) / norm.ppf(0.975)
    assert shifted_pvalue(0.01, (-0.02, 0.05), m, 0.05) == pytest.approx(2 * norm.sf((0.01 + m) / se_lo))
    assert shifted_pvalue(-m, (-0.03, 0.01), m, 0.05) == pytest.approx(1.0)
    assert shifted_pvalue(0.0, (0.0, 0.0), m, 0.05) == 0.0  # degenerate CI: Δ = 0 is exactly known


def test_margin_single_task_fails_iff_ci_wholly_below_minus_margin():
    """For one task at the comparison's α, the gate's test is the CI check, exactly."""
    rng = np.random.default_rng(0)
    m = 0.02
    outcomes = set()
    comp = fake_comparison([fake_task("t", p_value=0.5)])
    task = comp["tasks"][0]
    for _ in range(300):
        delta = rng.uniform(-0.1, 0.05)
        lo, hi = delta - rng.uniform(0.001, 0.05), delta + rng.uniform(0.001, 0.05)
        task.update(delta=delta, adapted=task["base"] + delta, ci=[lo, hi])
        res = evaluate(comp, margin=m)
        assert res.tasks[0].passed == (not hi < -m), (delta, lo, hi)
        outcomes.add(res.passed)
    assert outcomes == {True, False}


def test_margin_tolerates_a_small_significant_drop():
    comp = fake_comparison([fake_task("t", delta=-0.02, ci=(-0.03, -0.01), p_value=1e-4)])
    assert not evaluate(comp).passed  # a significant loss
    res = evaluate(comp, margin=0.05)
    assert res.passed and "not below the baseline by more than the margin 0.05" in res.tasks[0].reason
    assert res.notes and "normal approximation" in res.notes[0]


def test_margin_defaults_to_the_comparisons():
    comp = fake_comparison([fake_task("t", delta=-0.02, ci=(-0.03, -0.01), p_value=1e-4)], margin=0.05)
    res = evaluate(comp)
    assert res.margin == 0.05 and res.passed


def test_margin_holm_over_shifted_pvalues():
    tasks = [fake_task("a", delta=-0.06, ci=(-0.085, -0.035), p_value=1e-4),
             fake_task("b", delta=-0.05, ci=(-0.08, -0.02), p_value=1e-3)]
    comp = fake_comparison(tasks)
    res = evaluate(comp, margin=0.01)
    raw = [shifted_pvalue(t["delta"], tuple(t["ci"]), 0.01, 0.05) for t in comp["tasks"]]
    assert [t.p_value for t in res.tasks] == pytest.approx(raw)
    assert [t.p_holm for t in res.tasks] == pytest.approx(list(multipletests(raw, method="holm")[1]))


@pytest.mark.parametrize("seed", range(5))
def test_holm_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    p = list(rng.uniform(0, 0.2, size=7)) + [1e-5, 0.5, 0.5]  # ties included
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-15)
    assert holm([]) == []


# ---------------------------------------------------------------- non-inferiority


def test_non_inferiority_passes_iff_lower_bound_above_minus_margin():
    comp = three_task_comparison()
    res = evaluate(comp, mode="non-inferiority", margin=0.01)
    assert [t.lower_bound for t in res.tasks] == [t["ci"][0] for t in comp["tasks"]]
    assert [t.passed for t in res.tasks] == [t["ci"][0] > -0.01 for t in comp["tasks"]] == [True, False, False]
    assert res.failed_tasks == ["sst2", "trex"]
    # sst2 is a tie with a small Δ, but its CI cannot rule out a 0.01 drop
    assert "cannot be ruled out" in res.tasks[1].reason and "MDE 0.035 > margin" in res.tasks[1].reason
    assert evaluate(comp, mode="non-inferiority", margin=0.03, tasks=["chemprot", "sst2"]).passed


def test_non_inferiority_rescales_the_interval_for_another_alpha():
    comp = fake_comparison([fake_task("t", delta=0.0, ci=(-0.0196, 0.0196), p_value=1.0)])
    res = evaluate(comp, mode="non-inferiority", margin=0.018, alpha=0.10)
    expected = 0.0 - 0.0196 * norm.ppf(0.95) / norm.ppf(0.975)
    assert res.tasks[0].lower_bound == pytest.approx(expected)
    assert res.passed  # -0.01645 > -0.018, while the stored 95% bound -0.0196 would fail
    assert not evaluate(comp, mode="non-inferiority", margin=0.018).passed
    assert res.notes and "rescaled" in res.notes[0]


def test_non_inferiority_needs_a_margin():
    with pytest.raises(DabenchError, match="needs --margin"):
        evaluate(three_task_comparison(), mode="non-inferiority")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "strict"}, "--mode"),
    ({"alpha": 0.0}, "--alpha"),
    ({"alpha": 1.5}, "--alpha"),
    ({"margin": -0.01}, "--margin"),
    ({"margin": float("nan")}, "--margin"),
    ({"tasks": ["chemprot", "mnli"]}, "mnli"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(DabenchError, match=match):
        evaluate(three_task_comparison(), **kwargs)


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.pop("schema"), "schema"),
    (lambda d: d["tasks"][0].pop("ci"), "ci"),
    (lambda d: d["tasks"][0].update(p_value="0.1"), "p_value"),
    (lambda d: d["tasks"][1].update(verdict="draw"), "verdict"),
    (lambda d: d["tasks"][1].update(ci=[0.1, -0.1]), "lo > hi"),
    (lambda d: d["base"].pop("fingerprint"), "base.fingerprint"),
    (lambda d: d["tasks"].append(dict(d["tasks"][0])), "twice"),
])
def test_malformed_comparison(mutate, match):
    comp = three_task_comparison()
    mutate(comp)
    with pytest.raises(DabenchError, match=match):
        evaluate(comp, source="c.json")


def test_gate_result_json_round_trip():
    res = evaluate(three_task_comparison())
    d = json.loads(json.dumps(res.to_dict()))
    assert d["schema"] == "dabench.gate/1" and d["passed"] is False and d["exit_code"] == 1
    assert d["failed"] == ["trex"] and len(d["tasks"]) == 3
    assert d["tasks"][2]["ci"] == [-0.081, -0.024] and d["candidate"]["name"] == "gpt2-biomed"


# ---------------------------------------------------------------- CLI on stored comparisons


def _write(path: Path, comp: dict) -> Path:
    path.write_text(json.dumps(comp), encoding="utf-8")
    return path


def test_cli_stored_comparison_fails_naming_the_task(tmp_path, capsys):
    path = _write(tmp_path / "comparison.json", three_task_comparison())
    junit = tmp_path / "out" / "gate.xml"
    assert _main(["gate", str(path), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "FAIL trex" in out and "gate FAILED" in out and "1 of 3 tasks fail: trex" in out
    assert 'failures="1"' in junit.read_text(encoding="utf-8")


def test_cli_stored_comparison_passes(tmp_path, capsys):
    path = _write(tmp_path / "comparison.json", three_task_comparison())
    assert _main(["gate", str(path), "--tasks", "chemprot,sst2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and [t["task"] for t in data["tasks"]] == ["chemprot", "sst2"]


@pytest.mark.parametrize("args, needle", [
    (["gate", "{dir}/missing.json"], "file not found"),
    (["gate", "{dir}/broken.json"], "not valid JSON"),
    (["gate", "{dir}/comparison.json", "--mode", "lenient"], "--mode"),
    (["gate", "{dir}/comparison.json", "--tasks", "nosuchtask"], "nosuchtask"),
    (["gate", "{dir}/comparison.json", "{dir}/comparison.json"], "is a JSON file"),
    (["gate", "{dir}/comparison.json", "--limit", "5"], "apply only when a model is run"),
    (["gate", "{dir}/base-model", "{dir}/cand-model"], "--tasks or --suite"),
    (["gate", "{dir}/base-model"], "CANDIDATE checkpoint is needed"),
])
def test_cli_bad_input_exits_2(tmp_path, capsys, args, needle):
    _write(tmp_path / "comparison.json", three_task_comparison())
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert _main([a.format(dir=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- CLI with checkpoints (compare stubbed)


@pytest.fixture
def stub_compare(monkeypatch):
    """Replace the compare step by a stub recording its arguments and returning a comparison
    in which the candidate is worse on ``chemprot`` only."""
    calls = []

    def fake(baseline, candidate, tasks, options):
        calls.append({"baseline": baseline, "candidate": candidate, "tasks": list(tasks),
                      "options": options.compare_kwargs(tasks)})
        worse = candidate.endswith("worse")
        comp = fake_comparison(
            [fake_task("chemprot", delta=-0.08 if worse else 0.0, ci=(-0.1, -0.06) if worse else (0.0, 0.0),
                       p_value=1e-4 if worse else 1.0),
             fake_task("sst2", category="out-of-domain", delta=0.0, ci=(0.0, 0.0), p_value=1.0)],
            base_name=Path(baseline).name, adapted_name=Path(candidate).name,
            base_fp="f" * 20, adapted_fp="e" * 20,
        )
        return comp

    from dabench.cli import gate_cmd

    monkeypatch.setattr(gate_cmd, "_run_compare", fake)
    monkeypatch.setattr(gate_cmd, "_local_fingerprint", lambda checkpoint: None)
    return calls


def test_cli_checkpoints_run_compare_and_fail_on_the_worse_task(tmp_path, capsys, stub_compare):
    code = _main(["gate", "ckpt/released", "ckpt/worse", "--tasks", "chemprot,sst2", "--margin", "0.01",
                  "--data-dir", str(tmp_path), "--limit", "50", "--store", str(tmp_path / "s.sqlite"),
                  "--out", str(tmp_path / "gate-out")])
    assert code == 1
    (call,) = stub_compare
    assert call["baseline"] == "ckpt/released" and call["candidate"] == "ckpt/worse"
    assert call["tasks"] == ["chemprot", "sst2"]
    opts = call["options"]
    assert (opts["data_dir"], opts["limit"], opts["store_path"], opts["correction"], opts["margin"]) == \
        (str(tmp_path), 50, str(tmp_path / "s.sqlite"), "holm", 0.01)
    assert (opts["seed"], opts["resamples"], opts["shots"], opts["regime"]) == (0, 10_000, 0, "prompt")
    assert "FAIL chemprot" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "gate-out").iterdir()} == {"comparison.json", "report.html", "gate.json"}


def test_cli_checkpoints_equal_candidate_passes(stub_compare):
    assert _main(["gate", "ckpt/released", "ckpt/same", "--suite", "glue", "--tasks", "chemprot"]) == 0
    assert stub_compare[0]["tasks"][0] == "chemprot" and "sst2" in stub_compare[0]["tasks"]


def test_cli_stored_baseline_reuses_its_protocol(tmp_path, stub_compare):
    stored = three_task_comparison(adapted_fp="f" * 20, margin=0.02)
    stored["adapted"]["path"] = "released"  # relative to the JSON's folder
    (tmp_path / "released").mkdir()
    path = _write(tmp_path / "released.json", stored)
    assert _main(["gate", str(path), "ckpt/worse", "--seed", "3"]) == 1
    (call,) = stub_compare
    assert call["baseline"] == str(tmp_path / "released")
    assert call["tasks"] == ["chemprot", "sst2", "trex"]
    opts = call["options"]
    assert opts["seed"] == 3 and opts["resamples"] == 10_000 and opts["alpha"] == 0.05 and opts["margin"] == 0.02
    assert opts["data_dir"] == "/data" and opts["domain"] == "biomed" and opts["correction"] == "holm"


def test_cli_stored_baseline_refuses_a_changed_checkpoint(tmp_path, capsys, stub_compare):
    stored = three_task_comparison(adapted_fp="0" * 20)  # the stub's baseline has fingerprint f…
    path = _write(tmp_path / "released.json", stored)
    assert _main(["gate", str(path), "ckpt/cand"]) == 2
    assert "changed since the comparison was written" in capsys.readouterr().err


def test_cli_stored_baseline_checks_a_local_fingerprint_before_running(tmp_path, capsys, monkeypatch):
    from dabench.cli import gate_cmd

    ran = []
    monkeypatch.setattr(gate_cmd, "_run_compare", lambda *a: ran.append(a))
    model = tmp_path / "released"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    stored = three_task_comparison(adapted_fp="0" * 20)
    stored["adapted"]["path"] = str(model)
    path = _write(tmp_path / "released.json", stored)
    assert _main(["gate", str(path), "ckpt/cand"]) == 2
    assert "changed since the comparison was written" in capsys.readouterr().err
    assert ran == []


# ---------------------------------------------------------------- end to end with real checkpoints


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory):
    from dabench.demo.build import build_demo

    return build_demo(tmp_path_factory.mktemp("demo"), seed=0)


@pytest.mark.slow
def test_gate_demo_checkpoints_end_to_end(demo_models, tmp_path, capsys):
    """The issue's acceptance on the demo's real models: its base as candidate against its
    adapted model fails on the in-domain task; a copy of a model against itself passes;
    bad input exits 2. The baseline's records are reused from the store on the second gate."""
    d = demo_models
    store = tmp_path / "store.sqlite"
    common = ["--tasks", "demo_domain", "--store", str(store), "--resamples", "2000"]  # a registered task, shipped data
    junit = tmp_path / "gate.xml"
    assert _main(["gate", str(d.adapted_dir), str(d.base_dir), *common, "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "FAIL demo_domain" in out
    assert "<failure" in junit.read_text(encoding="utf-8")
    same = tmp_path / "adapted-copy"
    shutil.copytree(d.adapted_dir, same)
    assert _main(["gate", str(d.adapted_dir), str(same), *common, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["tasks"][0]["delta"] == 0.0
    assert _main(["gate", str(tmp_path / "no-such-model"), str(same), *common]) == 2


@pytest.mark.parametrize("mode, margin", [("regression", 0.0), ("regression", 0.01), ("non-inferiority", 0.01)])
def test_undefined_metric_fails_closed(mode, margin):
    """A NaN Δ (e.g. Pearson on constant predictions) must never pass a gate silently."""
    nan = float("nan")
    comp = fake_comparison([fake_task("stsb", metric="pearson", delta=0.0, ci=(-0.01, 0.01), p_value=1.0),
                            fake_task("other", delta=0.0, ci=(0.0, 0.0), p_value=1.0)])
    comp["tasks"][0].update(delta=nan, ci=[nan, nan], p_value=nan, p_adjusted=nan)
    res = evaluate(comp, mode=mode, margin=margin)
    assert res.failed_tasks == ["stsb"] and "no finite result" in res.tasks[0].reason
    if mode == "regression":  # the undefined test counted as p = 1 in Holm's family of two
        assert res.tasks[0].p_holm == 1.0
        assert res.tasks[1].p_holm == pytest.approx(holm([1.0, res.tasks[1].p_value])[1])
