"""How the reports describe fine-tune, probe and intrinsic comparisons: mean ± sd over seeds and
the training runs behind it, or the perplexity beside the −log perplexity headline. Every renderer
takes those strings from here, so the Markdown, HTML and terminal outputs agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dabench.render import fmt

MEASURE_NAMES = {"perplexity": "PPL", "pseudo_perplexity": "PPPL"}


def measure_name(details: Mapping[str, Any]) -> str:
    """The short name of an intrinsic task's measure (``PPL`` when the details name none)."""
    return MEASURE_NAMES.get(str(details.get("measure")), "PPL")


def regime_of(data: Mapping[str, Any]) -> str:
    """The comparison's regime (``prompt`` for comparisons written before regimes existed)."""
    return str((data.get("config") or {}).get("regime") or "prompt")


def regime_label(data: Mapping[str, Any]) -> str:
    """A short name of a comparison's regime for lists of results (empty for prompting)."""
    regime = regime_of(data)
    if regime == "finetune":
        seeds = (data.get("config") or {}).get("seeds") or []
        return f"fine-tune, {len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
    return "" if regime == "prompt" else regime


#: the per-task ``regime.test`` of fine-tune comparisons made before the seeds t-test
LEGACY_SEEDS_TEST = "two-level paired bootstrap"


def seeds_test(data: Mapping[str, Any]) -> tuple[str, str, str]:
    """How a fine-tune comparison tested Δ: (test, interval kind, p-value kind). Records made
    before the seeds t-test (their tasks say ``two-level paired bootstrap``) keep their words."""
    tests = [str(details(t).get("test", "")) for t in data.get("tasks", [])]
    if any(t.startswith(LEGACY_SEEDS_TEST) for t in tests):
        return "two-level paired bootstrap over seeds × examples", "percentile", "bootstrap"
    return "seeds t-test (example variance by a shared bootstrap + seed variance, Welch df)", "t", "t-test"


def details(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task's regime details (``{}`` for a prompting comparison)."""
    return dict(task.get("regime") or {})


def score(task: Mapping[str, Any], side: str) -> str:
    """A model's score on a task: ``mean ± sd`` over fine-tuning seeds, the −log perplexity with
    the perplexity beside it, or the plain score."""
    r = details(task)
    sd = r.get(f"{side}_sd")
    if sd is not None and len(r.get("seeds") or []) > 1:
        return f"{fmt.num(r.get(f'{side}_mean', task[side]))} ± {fmt.num(sd)}"
    ppl = (r.get("perplexity") or {}).get(side)
    if ppl is not None:
        return f"{fmt.num(task[side])} ({measure_name(r)} {fmt.num(ppl, 1)})"
    return fmt.num(task[side])


def _hyper(cfg: Mapping[str, Any], keys: tuple[tuple[str, str], ...]) -> str:
    hp = cfg.get("hyperparameters") or {}
    return ", ".join(f"{label} {hp[k]:g}" if isinstance(hp[k], float) else f"{label} {hp[k]}"
                     for k, label in keys if hp.get(k) is not None)


def protocol_parts(data: Mapping[str, Any]) -> list[str]:
    """The regime's part of the protocol line (empty for prompting)."""
    cfg = data.get("config") or {}
    regime = regime_of(data)
    preset = f"preset {cfg['preset']}" if cfg.get("preset") else ""
    if regime == "finetune":
        seeds = cfg.get("seeds") or []
        hp = _hyper(cfg, (("lr", "lr"), ("batch_size", "batch"), ("grad_accum", "gradient accumulation"),
                          ("epochs", "epochs"), ("patience", "patience"), ("max_length", "max length"),
                          ("train_limit", "train subset"), ("dev_limit", "dev subset")))
        return [f"both backbones fine-tuned on each task's train split with the same {len(seeds)} seeds "
                f"({', '.join(map(str, seeds))}) and hyperparameters ({'; '.join(p for p in (preset, hp) if p)}), "
                "early stopping on dev; scores are mean ± sd over seeds"]
    if regime == "probe":
        hp = _hyper(cfg, (("pooling", "pooling"), ("max_length", "max length"), ("train_limit", "train subset"),
                          ("dev_limit", "dev subset")))
        return [f"probe: frozen backbone features + logistic regression, C chosen on dev "
                f"({'; '.join(p for p in (preset, hp) if p)})"]
    intrinsic = ("(pseudo-)perplexity of held-out text, paired per document; headline −log perplexity "
                 "(higher = lower perplexity)")
    if regime == "intrinsic":
        return [f"intrinsic: {intrinsic}"]
    mixed = [t["task"] for t in data.get("tasks", []) if details(t).get("regime") == "intrinsic"]
    if mixed:
        return [f"intrinsic tasks ({', '.join(mixed)}): {intrinsic}; the other tasks prompted"]
    return []


def run_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per task, model and seed of a fine-tune / probe comparison (the training runs), or
    per task of an intrinsic one; empty for prompting."""
    rows: list[dict[str, str]] = []
    for t in data.get("tasks", []):
        r = details(t)
        if r.get("perplexity"):
            p = r["perplexity"]
            rows.append({"task": t["task"], "model": "both", "run": f"{r.get('documents', t['n'])} documents",
                         "score": f"{measure_name(r)} {fmt.num(p['base'], 1)} → "
                                  f"{fmt.num(p['adapted'], 1)} (×{p['ratio']:.3f})",
                         "detail": f"unit {r.get('unit', '?')}, window {r.get('window', '?')}, "
                                   f"source {r.get('source', '?')}"})
            continue
        for side in ("base", "adapted"):
            scores = r.get(f"{side}_scores") or []
            for seed, run, sc in zip(r.get("seeds") or [], (r.get("runs") or {}).get(side) or [], scores):
                if "C" in run:
                    detail = f"C = {run['C']:g} (dev {fmt.num(max(run.get('dev_scores', {}).values(), default=None))})"
                else:
                    detail = (f"best epoch {run.get('best_epoch')} of {run.get('epochs_run')} "
                              f"(dev {fmt.num(run.get('dev_score'))})")
                rows.append({"task": t["task"], "model": side, "run": f"seed {seed}", "score": fmt.num(sc),
                             "detail": f"{detail}, {run.get('seconds', 0):.0f} s"})
    return rows
