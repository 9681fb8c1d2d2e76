"""A builder of fake ``dabench.comparison/1`` dicts for tests of the readers (renderers,
leaderboard, gate), which must not need models.

Adjusted p-values and verdicts are computed the way ``compare`` defines them (statsmodels'
``multipletests`` with ``holm`` / ``fdr_bh``; win/loss when the adjusted p is below α), so a
fake is internally consistent. Import it as ``from tests.fake_comparison import ...``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from statsmodels.stats.multitest import multipletests

CREATED = "2025-03-04T05:06:07+00:00"


def fake_task(
    task: str,
    *,
    category: str = "in-domain",
    metric: str = "accuracy",
    n: int = 200,
    base: float = 0.70,
    delta: float = 0.0,
    ci: tuple[float, float] | None = None,
    p_value: float = 1.0,
    mde: float | None = 0.05,
    underpowered: bool = False,
    disagreements: list[dict[str, str]] | None = None,
    secondary: dict[str, dict[str, float]] | None = None,
    templates: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One task entry; ``p_adjusted`` and ``verdict`` are filled by :func:`fake_comparison`."""
    if ci is None:
        ci = (delta - 0.03, delta + 0.03)
    return {
        "task": task,
        "category": category,
        "metric": metric,
        "n": n,
        "base": base,
        "adapted": base + delta,
        "delta": delta,
        "ci": [float(ci[0]), float(ci[1])],
        "p_value": p_value,
        "p_adjusted": p_value,
        "verdict": "tie",
        "p_values": {"permutation": p_value, "bootstrap": p_value},
        "mde": mde,
        "equivalent": None,
        "non_inferior": None,
        "underpowered": underpowered,
        "secondary": secondary if secondary is not None else {"macro_f1": {"base": base - 0.05, "adapted": base - 0.05 + delta, "delta": delta}},
        "templates": templates or {"base": "plain", "adapted": "plain"},
        "disagreements": disagreements if disagreements is not None else [
            {"id": f"{task}-1", "input": "an example input", "reference": "positive",
             "base_prediction": "negative", "adapted_prediction": "positive"},
        ],
    }


def fake_comparison(
    tasks: list[dict[str, Any]],
    *,
    alpha: float = 0.05,
    margin: float | None = None,
    correction: str = "holm",
    base_name: str = "gpt2-base",
    adapted_name: str = "gpt2-biomed",
    base_fp: str = "b" * 64,
    adapted_fp: str = "a" * 64,
    created: str = CREATED,
    resamples: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """A full comparison dict around ``tasks`` with adjusted p-values, verdicts and summary."""
    tasks = copy.deepcopy(tasks)
    method = {"holm": "holm", "bh": "fdr_bh"}[correction]
    if tasks:
        adjusted = multipletests([t["p_value"] for t in tasks], alpha=alpha, method=method)[1]
        for t, p_adj in zip(tasks, adjusted):
            t["p_adjusted"] = float(p_adj)
            sig = p_adj < alpha
            t["verdict"] = "win" if sig and t["delta"] > 0 else "loss" if sig and t["delta"] < 0 else "tie"
            if margin is not None:
                t["non_inferior"] = t["ci"][0] > -margin
    summary: dict[str, Any] = {"win": 0, "tie": 0, "loss": 0, "by_category": {}}
    for t in tasks:
        summary[t["verdict"]] += 1
        summary["by_category"].setdefault(t["category"], {"win": 0, "tie": 0, "loss": 0})[t["verdict"]] += 1
    names = [t["task"] for t in tasks]
    return {
        "schema": "dabench.comparison/1",
        "dabench_version": "0.1.0",
        "created": created,
        "base": {"name": base_name, "path": f"/models/{base_name}", "fingerprint": base_fp},
        "adapted": {"name": adapted_name, "path": f"/models/{adapted_name}", "fingerprint": adapted_fp},
        "config": {
            "tasks": names, "data_dir": "/data", "limit": None, "shots": 0, "seed": seed,
            "resamples": resamples, "alpha": alpha, "margin": margin, "correction": correction,
            "domain": "biomed", "select_prompt": False,
        },
        "signature": {
            "dabench_version": "0.1.0",
            "task_hashes": {n: f"hash-{n}" for n in names},
            "fingerprints": {"base": base_fp, "adapted": adapted_fp},
            "seed": seed,
            "resamples": resamples,
            "alpha": alpha,
            "correction": correction,
            "templates": {t["task"]: t["templates"] for t in tasks},
        },
        "tasks": tasks,
        "summary": summary,
    }


def three_task_comparison(**kw: Any) -> dict[str, Any]:
    """A typical comparison: an in-domain win, an out-of-domain tie, a knowledge loss."""
    return fake_comparison([
        fake_task("chemprot", category="in-domain", metric="micro_f1", n=3469, base=0.62, delta=0.081,
                  ci=(0.062, 0.100), p_value=1e-4, mde=0.02),
        fake_task("sst2", category="out-of-domain", n=872, base=0.81, delta=-0.006,
                  ci=(-0.021, 0.009), p_value=0.43, mde=0.035, underpowered=True),
        fake_task("trex", category="knowledge", metric="kilt_ac", n=500, base=0.41, delta=-0.052,
                  ci=(-0.081, -0.024), p_value=0.0009, mde=0.04),
    ], **kw)


def fake_sweep(path: Path) -> Path:
    """A ``sweep.json`` of three checkpoints (steps 100, 200, 300; names with markup in them):
    in-domain Δ rises, the out-of-domain task drops significantly at the last."""
    from dabench.comparison import Comparison
    from dabench.sweep import Sweep, SweepPoint, forgetting_onset, recommend

    points = []
    for step, (gain, cost, p_cost) in zip((100, 200, 300), ((0.02, 0.0, 0.9), (0.06, -0.01, 0.5), (0.09, -0.08, 1e-4))):
        comp = fake_comparison([
            fake_task("chemprot", delta=gain, ci=(gain - 0.02, gain + 0.02), p_value=1e-4 if gain > 0.03 else 0.3),
            fake_task("sst2", category="out-of-domain", delta=cost, ci=(cost - 0.02, cost + 0.02), p_value=p_cost),
        ], adapted_name=f"checkpoint-{step}<b>", adapted_fp=f"{step:064d}")
        points.append(SweepPoint(f"checkpoint-{step}<b>", f"/ckpt/checkpoint-{step}", step, Comparison.from_dict(comp)))
    sweep = Sweep(points[0].comparison.base, points, {"tasks": ["chemprot", "sst2"], "correction": "holm",
                                                      "alpha": 0.05, "margin": 0.05},
                  recommend(points, 0.05), forgetting_onset(points))
    path.write_text(sweep.to_json(), encoding="utf-8")
    return path
