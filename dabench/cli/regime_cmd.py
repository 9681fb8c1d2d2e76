"""The ``--regime`` surface of ``dabench compare`` / ``dabench gate``, and ``dabench regimes``.

``compare`` and ``gate`` run every comparison through :func:`run_comparison`, which hands the
options that were set to ``dabench.compare`` (``regime=`` picks prompting, fine-tuning, probing
or intrinsic scoring there; an option set for the wrong regime is refused, not ignored).
:func:`replay_options` turns a stored comparison's config back into the same call (the gate
re-runs a stored baseline's protocol against a candidate). ``dabench regimes`` lists the
regimes and the hyperparameters of each preset.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Mapping, Sequence

import typer

from dabench.cli import app
from dabench.errors import DabenchError

REGIME_CHOICES = ("prompt", "finetune", "probe", "intrinsic")

#: engine options that the training regimes use (dtype and batch size are the regime's own business)
_BACKBONE_OPTIONS = ("device", "trust_remote_code", "arch", "adapter_base", "ckpt_prefix")


def parse_seeds(value: str | None) -> int | list[int] | None:
    """``--seeds``: a count (``5`` → seeds 0..4) or a comma-separated list (``0,1,7``)."""
    if value is None or not value.strip():
        return None
    try:
        parts = [int(p) for p in value.split(",") if p.strip()]
    except ValueError:
        raise DabenchError(f"--seeds {value!r}: give a count (5) or a comma-separated list of seeds (0,1,2)") from None
    if "," not in value:
        return parts[0]
    return parts


def run_comparison(base: str, adapted: str, tasks: Sequence[str], *, regime: str = "prompt", **options: Any):
    """``dabench.compare`` from the CLI's options: ``--batch-size`` is the engine's batch for
    prompting and the training batch for the regimes; options left unset (``None``) are dropped,
    so ``dabench.compare`` refuses only what the user actually set for the wrong regime."""
    if regime not in REGIME_CHOICES:
        raise DabenchError(f"--regime must be one of {', '.join(REGIME_CHOICES)}, not {regime!r}")
    engine_options = dict(options.pop("engine_options", None) or {})
    batch_size = options.pop("batch_size", None)
    if regime == "prompt":
        if batch_size is not None:
            engine_options["batch_size"] = batch_size
    else:
        if engine_options.get("dtype") not in (None, "auto"):
            raise DabenchError(f"--dtype applies to prompting; --regime {regime} trains and scores in float32")
        engine_options = {k: v for k, v in engine_options.items() if k in _BACKBONE_OPTIONS}
        options["batch_size"] = batch_size
    from dabench.pipeline import compare

    return compare(base, adapted, list(tasks), regime=regime, engine_options=engine_options,
                   **{k: v for k, v in options.items() if v is not None})


def replay_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The regime options of a stored comparison's ``config`` (to run the same protocol again)."""
    regime = config.get("regime") or "prompt"
    if regime == "prompt":
        return {"regime": "prompt"}
    out: dict[str, Any] = {"regime": regime}
    if regime in ("finetune", "probe"):
        out["preset"] = config.get("preset")
        if regime == "finetune" and config.get("seeds"):
            out["seeds"] = list(config["seeds"])
        out["hyperparameters"] = dict(config.get("hyperparameters") or {})
    elif config.get("max_length") is not None:  # intrinsic
        out["max_length"] = config["max_length"]
    return out


@app.command("regimes")
def regimes_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List the comparison regimes and the hyperparameters of each fine-tune / probe preset."""
    from dabench.regimes import PRESETS

    data = {
        "regimes": {"prompt": "score checkpoints as they are (log-likelihood of label verbalisers, generation)",
                    "finetune": "fine-tune both backbones per task, same hyperparameters and seeds; seeds t-test",
                    "probe": "frozen features + logistic regression (C chosen on dev); deterministic, one run",
                    "intrinsic": "perplexity (causal LM) / pseudo-perplexity (masked LM) on held-out text, per document"},
        "presets": {name: {"description": p.description, "seeds": p.seeds, "finetune": asdict(p.finetune),
                           "probe": asdict(p.probe)} for name, p in PRESETS.items()},
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for name, text in data["regimes"].items():
        typer.echo(f"{name:10s} {text}")
    for name, p in data["presets"].items():
        typer.echo(f"\npreset {name}: {p['description']}")
        typer.echo("  finetune: " + ", ".join(f"{k}={v}" for k, v in p["finetune"].items()))
        typer.echo("  probe:    " + ", ".join(f"{k}={v}" for k, v in p["probe"].items()))
