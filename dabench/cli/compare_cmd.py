"""``dabench compare``: head-to-head of a base and an adapted checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dabench.cli.root import app
from dabench.cli.flags import NO_PROGRESS, OUT_DIR, RawOptions, run_options, split_names
from dabench.cli.output import check_writable, default_out_dir, emit_comparison
from dabench.errors import DabenchError

@app.command("compare")
@run_options()
def compare_command(
    base: str = typer.Argument(..., help="Base checkpoint: a model directory, a hub id, a PEFT adapter dir or a "
                               "weights file (.ckpt/.pt/.safetensors, with --arch)."),
    adapted: str = typer.Argument(..., help="Adapted checkpoint (same forms as BASE)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma-separated task or suite names (see `dabench tasks list`)."),
    from_lmeval: bool = typer.Option(False, "--from-lmeval", help="BASE and ADAPTED are lm-eval output dirs (--log_samples): pair their per-sample logs."),
    out: Optional[Path] = OUT_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print comparison.json to stdout instead of the table."),
    no_progress: bool = NO_PROGRESS,
    options: RawOptions = RawOptions(),
) -> None:
    """Compare ADAPTED against BASE on the same examples of each task, with paired statistics.

    --regime prompt (default) scores both checkpoints as they are; finetune fine-tunes both
    backbones per task with the same seeds and hyperparameters; probe fits a logistic regression
    on frozen features; intrinsic scores (pseudo-)perplexity of held-out text. See docs/regimes.md.
    """
    task_names = split_names(tasks)
    out_dir = out or default_out_dir(base, adapted)
    check_writable(out_dir / "comparison.json")  # before any model loads, not after the run
    if from_lmeval:
        from dabench.lmeval import compare_from_lmeval

        allowed = {"--seed", "--resamples", "--alpha", "--margin", "--correction"}
        extra = [flag for flag in options.given_names() if flag not in allowed]
        if extra:
            raise DabenchError(f"{extra[0]} does not apply to --from-lmeval (the two runs are already done); "
                               f"it takes {', '.join(sorted(allowed))}")
        stats = options.layered().stats
        comparison = compare_from_lmeval(base, adapted, tasks=task_names or None, resamples=stats.resamples,
                                         seed=stats.seed, alpha=stats.alpha, margin=stats.margin,
                                         correction=stats.correction)
    elif not task_names:
        raise DabenchError("--tasks is required (task or suite names; see `dabench tasks list`)")
    else:
        from dabench.pipeline import run_comparison

        comparison = run_comparison(base, adapted, task_names, options.layered(),
                                    progress=not (no_progress or as_json))
    emit_comparison(comparison, out_dir, as_json)
