"""Reports of fine-tune and intrinsic comparisons: mean ± sd over seeds, the protocol line, training runs."""

from __future__ import annotations

from dabench.leaderboard.site import overview_view
from dabench.leaderboard.definition import LeaderboardDefinition
from dabench.render.html import render_html
from dabench.render.markdown import render_markdown
from dabench.render.regime_fmt import regime_label, run_rows, score
from tests.fake_comparison import fake_comparison, fake_task

RUNS = {side: [{"seed": s, "best_epoch": 2, "epochs_run": 3, "dev_score": 0.5, "dev_history": [0.4, 0.5, 0.45],
                "seconds": 12.3} for s in (0, 1, 2)] for side in ("base", "adapted")}


def finetune_comparison() -> dict:
    t = fake_task("chemprot", metric="micro_f1", base=0.54, delta=-0.041, ci=(-0.101, 0.011), p_value=0.16)
    t["regime"] = {"regime": "finetune", "seeds": [0, 1, 2], "base_scores": [0.6, 0.51, 0.51],
                   "adapted_scores": [0.53, 0.49, 0.478], "base_mean": 0.54, "base_sd": 0.0520,
                   "adapted_mean": 0.4993, "adapted_sd": 0.0272, "runs": RUNS}
    t["disagreements"] = [{"id": "x", "input": "<script>alert(1)</script>", "reference": "A",
                           "base_prediction": "B", "adapted_prediction": "A"}]
    data = fake_comparison([t])
    data["config"].update(regime="finetune", preset="small-cpu", seeds=[0, 1, 2],
                          hyperparameters={"lr": 1e-4, "batch_size": 16, "epochs": 3, "patience": 3})
    return data


def intrinsic_comparison() -> dict:
    t = fake_task("chemprot_text_ppl", metric="neg_log_ppl", base=-7.249, delta=1.118, ci=(1.08, 1.15), p_value=1e-4)
    t["regime"] = {"regime": "intrinsic", "measure": "pseudo_perplexity", "unit": "token", "window": 256,
                   "source": "chemprot:test", "documents": 100,
                   "perplexity": {"base": 1407.0, "adapted": 460.2, "ratio": 0.327}}
    data = fake_comparison([t])
    data["config"]["regime"] = "intrinsic"
    return data


def test_scores_are_mean_and_sd_over_seeds_and_perplexity_beside_its_log():
    assert score(finetune_comparison()["tasks"][0], "base") == "0.540 ± 0.052"
    assert score(finetune_comparison()["tasks"][0], "adapted") == "0.499 ± 0.027"
    assert score(intrinsic_comparison()["tasks"][0], "adapted") == "-6.131 (PPPL 460.2)"
    plain = fake_comparison([fake_task("sst2", base=0.8)])
    assert score(plain["tasks"][0], "base") == "0.800"


def test_markdown_and_html_describe_the_finetune_protocol():
    data = finetune_comparison()
    md = render_markdown(data)
    protocol = next(line for line in md.splitlines() if line.startswith("- **Protocol:**"))
    assert "fine-tuned on each task's train split with the same 3 seeds (0, 1, 2)" in protocol
    assert "preset small-cpu" in protocol and "lr 0.0001" in protocol
    assert "seeds t-test" in protocol and "95% t CI" in protocol and "t-test p-values" in protocol
    # a record made with the old two-level bootstrap keeps its own description
    legacy = finetune_comparison()
    legacy["tasks"][0]["regime"]["test"] = "two-level paired bootstrap (examples shared, seeds per model)"
    old = next(line for line in render_markdown(legacy).splitlines() if line.startswith("- **Protocol:**"))
    assert "two-level paired bootstrap over seeds × examples" in old and "bootstrap p-values" in old
    assert "-shot" not in protocol  # shots mean nothing for a fine-tune
    assert "| 0.540 ± 0.052 | 0.499 ± 0.027 |" in md
    assert "## Training runs" in md and "| chemprot | base | seed 1 | 0.510 | best epoch 2 of 3 (dev 0.500), 12 s |" in md
    html = render_html(data)
    assert "0.540 ± 0.052" in html and 'id="runs-table"' in html and "best epoch 2 of 3" in html
    assert "<script>alert(1)</script>" not in html


def test_intrinsic_report_has_a_perplexity_table():
    data = intrinsic_comparison()
    md = render_markdown(data)
    assert "## Perplexity" in md and "PPPL 1407 → 460.2 (×0.327)" in md and "first" not in md.split("## Verdicts")[0]
    assert run_rows(fake_comparison([fake_task("sst2")])) == []


def test_leaderboard_names_the_regime_of_each_record():
    ft, intr = finetune_comparison(), intrinsic_comparison()
    assert regime_label(ft) == "fine-tune, 3 seeds" and regime_label(intr) == "intrinsic"
    assert regime_label(fake_comparison([fake_task("sst2")])) == ""
    view = overview_view([("ft", ft), ("intr", intr)], LeaderboardDefinition())
    labels = {p["id"]: p["label"] for p in view["pairs"]}
    assert labels == {"ft": "gpt2-biomed vs gpt2-base (fine-tune, 3 seeds)", "intr": "gpt2-biomed vs gpt2-base (intrinsic)"}
    assert {r["base"] for r in view["results"]} == {"0.540 ± 0.052", "-7.249 (PPPL 1407)"}
