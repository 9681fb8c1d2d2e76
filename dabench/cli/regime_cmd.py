"""``dabench regimes``: the comparison regimes and the hyperparameters of each preset.

(The ``--regime`` options themselves are declared in :mod:`dabench.options`.)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from dabench.cli.root import app


@app.command("regimes")
def regimes_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List the comparison regimes and the hyperparameters of each fine-tune / probe preset."""
    from dabench.regimes import PRESETS

    data: dict[str, dict[str, Any]] = {
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
