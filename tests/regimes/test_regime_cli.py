"""`--regime` on `dabench compare` / `dabench gate` / `dabench.compare`, and `dabench regimes`."""

from __future__ import annotations

import json

import pytest

import dabench
from dabench.cli import main
from dabench.errors import DabenchError, TaskError
from dabench.options import RunOptions, parse_seeds, replayed
from dabench.pipeline import run_comparison
from dabench.regimes import regime_info
from tests.regimes import TASKS_DIR


def test_regimes_command_lists_presets(capsys):
    assert main(["regimes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["regimes"]) == {"prompt", "finetune", "probe", "intrinsic"}
    dsp = data["presets"]["dsp"]
    assert (dsp["finetune"]["lr"], dsp["finetune"]["batch_size"], dsp["finetune"]["epochs"], dsp["finetune"]["patience"],
            dsp["seeds"]) == (2e-5, 16, 10, 3, 5)
    assert data["presets"]["small-cpu"]["seeds"] == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"regime": "probe", "shots": 3}, r"--shots applies to prompting, not to --regime probe"),
    ({"regime": "finetune", "select_prompt": True}, r"--select-prompt applies to prompting"),
    ({"epochs": 2}, r"--epochs applies to --regime finetune/probe, not to --regime prompt"),
    ({"regime": "prompt", "seeds": 3}, r"--seeds applies to --regime finetune/probe, not to --regime prompt"),
    ({"regime": "intrinsic", "epochs": 2}, r"--epochs applies to --regime finetune/probe, not to --regime intrinsic"),
    ({"regime": "lora"}, r"--regime must be one of prompt, finetune, probe, intrinsic"),
    ({"regime": "probe", "engine": "vllm"}, r"--engine vllm is for prompting"),
    ({"regime": "finetune", "epochs": 0}, r"--epochs must be at least 1"),
    ({"shots": -1}, r"--shots must be 0 or more"),
    ({"margin": -0.1}, r"--margin must be a non-negative number"),
    ({"resamples": 0}, r"--resamples 0 is too few"),
    ({"engine_options": {"batch_size": 0}}, r"--batch-size must be at least 1"),
])
def test_options_of_another_regime_are_refused_before_any_model_loads(kwargs, message, tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(TaskError, match=message):
        dabench.compare(missing, missing, ["sst2"], **kwargs)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        dabench.compare("a", "b", ["sst2"], regime="finetune", epoch=3)


def test_intrinsic_tasks_mix_with_prompted_ones_in_one_holm_family(lm_pair, shared_data, tmp_path):
    """--tasks sst2,sst2_text_ppl: each task is scored by its own pipeline, exactly as alone, and the
    p-values are adjusted over all tasks of the run."""
    from statsmodels.stats.multitest import multipletests

    base, adapted = lm_pair
    opts = dict(data_dir=shared_data, limit=12, resamples=500, store_path=tmp_path / "s.sqlite", progress=False)
    mixed = dabench.compare(str(base), str(adapted), ["sst2", "chemprot_text_ppl", "sst2_text_ppl"], **opts)
    assert [t.task for t in mixed.tasks] == ["sst2", "chemprot_text_ppl", "sst2_text_ppl"]
    assert mixed.config["tasks_by_regime"] == {"prompt": ["sst2"], "intrinsic": ["chemprot_text_ppl", "sst2_text_ppl"]}
    alone = {t.task: t for c in (dabench.compare(str(base), str(adapted), ["sst2"], **opts),
                                 dabench.compare(str(base), str(adapted), ["intrinsic"], **opts)) for t in c.tasks}
    for t in mixed.tasks:
        assert (t.delta, t.ci, t.p_value) == (alone[t.task].delta, alone[t.task].ci, alone[t.task].p_value)
    holm = multipletests([t.p_value for t in mixed.tasks], method="holm")[1]
    assert [t.p_adjusted for t in mixed.tasks] == pytest.approx(list(holm))
    assert mixed.task("chemprot_text_ppl").regime["perplexity"]["base"] > 1
    assert set(mixed.signature["task_hashes"]) == {"sst2", "chemprot_text_ppl", "sst2_text_ppl"}
    with pytest.raises(TaskError, match="scored with the hf engine"):
        dabench.compare(str(base), str(adapted), ["sst2", "sst2_text_ppl"], engine="vllm", **opts)


def test_parse_seeds():
    assert parse_seeds("5") == 5
    assert parse_seeds("0,1,7") == [0, 1, 7]
    assert parse_seeds(None) is None
    with pytest.raises(DabenchError, match="--seeds 'x'"):
        parse_seeds("x")
    with pytest.raises(DabenchError, match="--seeds '0'"):
        parse_seeds("0")


def test_cli_refusal_is_one_line_and_exit_2(bert_pair, capsys):
    base, adapted = bert_pair
    assert main(["compare", str(base), str(adapted), "--tasks", "chemprot", "--regime", "probe", "--shots", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["dabench: error: --shots applies to prompting, not to --regime probe; drop it or change --regime"]


def test_dtype_is_refused_with_a_training_regime(bert_pair):
    base, adapted = bert_pair
    with pytest.raises(DabenchError, match="--dtype applies to prompting"):
        RunOptions.layered({"regime": "finetune", "dtype": "bfloat16"})
    assert main(["compare", str(base), str(adapted), "--tasks", "chemprot", "--regime", "finetune",
                 "--dtype", "bfloat16"]) == 2


def _cli(*args: str) -> list[str]:
    return [*args, "--resamples", "500", "--no-progress"]


def test_compare_and_gate_run_a_finetune_comparison_end_to_end(bert_pair, shared_data, tmp_path, capsys):
    """`dabench compare --regime finetune`: reports show mean ± sd over seeds; `dabench gate RESULT.json CANDIDATE`
    replays the stored protocol (regime, seeds, hyperparameters) from the store without training again."""
    base, adapted = bert_pair
    store, out = tmp_path / "s.sqlite", tmp_path / "report"
    common = ["--data-dir", str(shared_data), "--tasks-dir", str(TASKS_DIR), "--limit", "60", "--store", str(store)]
    rc = main(["compare", str(base), str(adapted), "--tasks", "chemprot_inhibitor", "--regime", "finetune",
               "--preset", "small-cpu", "--seeds", "0,1", "--epochs", "2", "--lr", "2e-3", "--batch-size", "16",
               "--patience", "1", "--train-limit", "120", "--dev-limit", "40", "--max-length", "48",
               "--pooling", "mean", "--out", str(out), *_cli(*common)])
    assert rc == 0
    data = json.loads((out / "comparison.json").read_text())
    cfg = data["config"]
    assert (cfg["regime"], cfg["preset"], cfg["seeds"]) == ("finetune", "small-cpu", [0, 1])
    hp = cfg["hyperparameters"]
    assert (hp["epochs"], hp["lr"], hp["batch_size"], hp["patience"], hp["train_limit"], hp["max_length"]) == \
        (2, 2e-3, 16, 1, 120, 48)
    info = regime_info(data, "chemprot_inhibitor")
    assert info["seeds"] == [0, 1] and len(info["base_scores"]) == 2
    terminal = capsys.readouterr().out
    assert "finetune" in terminal and "±" in terminal
    md = (out / "report.md").read_text()
    assert "fine-tuned" in md and f"{info['base_mean']:.3f} ± {info['base_sd']:.3f}" in md
    html = (out / "report.html").read_text()
    assert f"{info['adapted_mean']:.3f} ± {info['adapted_sd']:.3f}" in html

    # the gate: same protocol from the stored comparison, every record already in the store
    import dabench.regimes.compare as regime_compare

    def no_training(*a, **k):
        raise AssertionError("the gate re-trained a seed whose predictions are stored")

    mp = pytest.MonkeyPatch()
    mp.setattr(regime_compare, "finetune_seed", no_training)
    try:
        gate_dir = tmp_path / "gate"
        rc = main(["gate", str(out / "comparison.json"), str(adapted), "--baseline-side", "adapted", "--store", str(store),
                   "--tasks-dir", str(TASKS_DIR),
                   "--out", str(gate_dir), "--json", "--margin", "0.5"])
    finally:
        mp.undo()
    assert rc == 0
    gated = json.loads((gate_dir / "comparison.json").read_text())
    assert gated["config"]["regime"] == "finetune" and gated["config"]["seeds"] == [0, 1]
    assert gated["config"]["hyperparameters"] == hp
    # adapted against itself: identical per-seed scores, Δ = 0 exactly
    assert gated["tasks"][0]["delta"] == 0 and gated["tasks"][0]["verdict"] == "tie"


def test_gate_two_checkpoints_under_the_probe_regime(bert_pair, shared_data, tmp_path):
    base, adapted = bert_pair
    junit = tmp_path / "gate.xml"
    rc = main(["gate", str(base), str(base), "--tasks", "chemprot_inhibitor", "--regime", "probe", "--data-dir",
               str(shared_data), "--tasks-dir", str(TASKS_DIR), "--limit", "40", "--store", str(tmp_path / "s.sqlite"),
               "--resamples", "500", "--junit", str(junit), "--out", str(tmp_path / "g")])
    assert rc == 0  # a backbone against itself never fails the gate
    data = json.loads((tmp_path / "g" / "comparison.json").read_text())
    assert data["config"]["regime"] == "probe" and data["tasks"][0]["delta"] == 0
    assert "chemprot_inhibitor" in junit.read_text()


def test_replay_options():
    assert replayed({"regime": "prompt"}) == {"regime": "prompt"}
    assert replayed({}) == {}
    assert replayed({"regime": "intrinsic", "max_length": 64}) == {"regime": "intrinsic", "max_length": 64}
    ft = {"regime": "finetune", "preset": "dsp", "seeds": [0, 1], "hyperparameters": {"lr": 1e-4}}
    assert replayed(ft) == {"regime": "finetune", "preset": "dsp", "seeds": "0,1"}
    run = RunOptions.layered({}, stored=ft)
    kwargs = run.compare_kwargs(["chemprot"])
    assert (kwargs["regime"], kwargs["preset"], kwargs["seeds"], kwargs["hyperparameters"]) == \
        ("finetune", "dsp", [0, 1], {"lr": 1e-4})
    # a flag given overrides the stored value; another regime drops the stored hyperparameters
    assert RunOptions.layered({"lr": 3e-5}, stored=ft).compare_kwargs(["x"])["lr"] == 3e-5
    assert "hyperparameters" not in RunOptions.layered({"regime": "probe"}, stored=ft).compare_kwargs(["x"])
    # engine options are recorded and replayed; the machine's device and batch size are not
    rec = RunOptions.layered({"arch": "cfg/", "ckpt_prefix": "model.", "device": "cuda", "batch_size": 4}).recorded()
    assert rec == {"arch": "cfg/", "ckpt_prefix": "model."}
    assert replayed({"options": rec})["arch"] == "cfg/"


def test_prompt_regime_through_the_cli_path(lm_pair, shared_data, tmp_path):
    """--regime prompt (the default): unset training options are dropped, --batch-size goes to the engine."""
    base, adapted = lm_pair
    opts = RunOptions.layered({"batch_size": 4, "data_dir": str(shared_data), "limit": 8, "resamples": 200,
                               "store": str(tmp_path / "s.sqlite")})
    assert opts.compare_kwargs(["sst2"])["engine_options"] == {"dtype": "auto", "batch_size": 4}
    comp = run_comparison(str(base), str(adapted), ["sst2"], opts, progress=False)
    assert comp.task("sst2").n == 8 and comp.config["regime"] == "prompt"
    assert replayed(comp.config)["regime"] == "prompt" and comp.config["options"] == {"limit": 8, "resamples": 200,
                                                                                      "data_dir": str(shared_data)}


def test_intrinsic_task_names_run_the_intrinsic_regime(bert_pair, shared_data, tmp_path):
    base, _ = bert_pair
    comp = dabench.compare(str(base), str(base), ["sst2_text_ppl"], data_dir=shared_data, limit=6,
                           store_path=tmp_path / "s.sqlite", resamples=200, progress=False)
    assert comp.config["regime"] == "intrinsic" and comp.tasks[0].delta == 0 and comp.tasks[0].n == 6


def test_gate_takes_intrinsic_task_and_suite_names(bert_pair, shared_data, tmp_path, capsys):
    base, _ = bert_pair
    rc = main(["gate", str(base), str(base), "--suite", "intrinsic", "--data-dir", str(shared_data), "--limit", "5",
               "--store", str(tmp_path / "s.sqlite"), "--resamples", "200", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and {t["task"] for t in result["tasks"]} == {"chemprot_text_ppl", "sst2_text_ppl"}
