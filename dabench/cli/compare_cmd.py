"""``dabench compare``: head-to-head of a base and an adapted checkpoint."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer

from dabench.cli import app
from dabench.errors import DabenchError

REGIME_HELP = ("prompt: score the checkpoints as they are (zero/few-shot); finetune: fine-tune both backbones per task "
               "with the same seeds (DSP protocol); probe: frozen features + logistic regression; intrinsic: "
               "(pseudo-)perplexity on held-out text (tasks/intrinsic).")
PRESET_HELP = "Hyperparameter preset of --regime finetune/probe: dsp (default) or small-cpu (see `dabench regimes`)."


def parse_data_files(values: list[str], tasks: list[str]) -> dict[str, dict[str, str]]:
    """``[TASK:]SPLIT=PATH`` options → {task: {split: path}}; TASK may be left out with one task."""
    out: dict[str, dict[str, str]] = {}
    for v in values:
        m = re.fullmatch(r"(?:([\w.-]+):)?([\w.-]+)=(.+)", v)
        if not m:
            raise DabenchError(f"--data-file {v!r}: expected [TASK:]SPLIT=PATH, e.g. chemprot:test=./test.txt")
        task, split, path = m.groups()
        if task is None:
            if len(tasks) != 1:
                raise DabenchError(f"--data-file {v!r}: name the task (TASK:SPLIT=PATH) when comparing several tasks")
            task = tasks[0]
        out.setdefault(task, {})[split] = path
    return out


def default_out_dir(base: str, adapted: str) -> Path:
    def slug(s: str) -> str:
        return re.sub(r"[^\w.-]+", "_", Path(s.rstrip("/")).name or s)[:60]

    return Path("reports") / f"{slug(adapted)}_vs_{slug(base)}"


def write_outputs(data: dict, out: Path) -> list[Path]:
    """comparison.json plus the Markdown and HTML reports when their renderers are present."""
    from dabench.comparison import Comparison

    out.mkdir(parents=True, exist_ok=True)
    written = [Comparison.from_dict(data).save(out / "comparison.json")]
    from dabench.render.html import write_html_report
    from dabench.render.markdown import write_markdown_report

    write_markdown_report(data, out / "report.md")
    write_html_report(data, out / "report.html")
    written += [out / "report.md", out / "report.html"]
    return written


@app.command("compare")
def compare_command(
    base: str = typer.Argument(..., help="Base checkpoint: a local model directory or a hub id."),
    adapted: str = typer.Argument(..., help="Adapted checkpoint: a local model directory or a hub id."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma-separated task or suite names (see `dabench tasks list`)."),
    from_lmeval: bool = typer.Option(False, "--from-lmeval", help="BASE and ADAPTED are lm-eval output dirs (--log_samples): pair their per-sample logs."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Local data dir (layout: docs/data.md); default $DABENCH_DATA_DIR."),
    data_file: list[str] = typer.Option([], "--data-file", help="Override one split's file: [TASK:]SPLIT=PATH (repeatable)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N examples of each task."),
    shots: int = typer.Option(0, "--shots", help="Few-shot examples per prompt (the same for both models)."),
    seed: int = typer.Option(0, "--seed", help="Seed for shot selection and resampling."),
    resamples: int = typer.Option(10_000, "--resamples", help="Bootstrap / permutation resamples."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (after correction across tasks)."),
    margin: Optional[float] = typer.Option(None, "--margin", help="Equivalence / non-inferiority margin on the metric scale."),
    correction: str = typer.Option("holm", "--correction", help="Multiplicity correction across tasks: holm or bh."),
    domain: Optional[str] = typer.Option(None, "--domain", help="Adaptation domain (e.g. biomed): tasks of this domain are in-domain."),
    select_prompt: bool = typer.Option(False, "--select-prompt", help="Per model, pick the best template on the validation split."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output dir (default reports/<adapted>_vs_<base>)."),
    as_json: bool = typer.Option(False, "--json", help="Print comparison.json to stdout instead of the table."),
    store: Optional[Path] = typer.Option(None, "--store", help="Record store (default $DABENCH_STORE or ~/.cache/dabench/store.sqlite)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 … (default: CUDA when present)."),
    dtype: str = typer.Option("auto", "--dtype", help="auto, float32, bfloat16 or float16."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Sequences per forward pass (prompting, default 16); the training batch with --regime finetune."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow code shipped with a checkpoint to run."),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help="Extra dir of task YAML specs (repeatable)."),
    lmeval_include_path: list[Path] = typer.Option([], "--lmeval-include-path", help="Folder of extra lm-eval task YAMLs for lmeval:<task> names in --tasks (repeatable)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Do not draw progress bars."),
    regime: str = typer.Option("prompt", "--regime", help=REGIME_HELP),
    preset: Optional[str] = typer.Option(None, "--preset", help=PRESET_HELP),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Fine-tuning seeds: a count (5 = seeds 0-4) or a list (0,1,2). Default: the preset's."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Fine-tuning epochs (default: the preset's)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Fine-tuning learning rate (default: the preset's)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early-stopping patience on dev, in epochs; 0 = none (default: the preset's)."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Max input tokens for --regime finetune/probe/intrinsic."),
    train_limit: Optional[int] = typer.Option(None, "--train-limit", help="Train on a fixed random subset of N train examples."),
    dev_limit: Optional[int] = typer.Option(None, "--dev-limit", help="Early-stop / choose C on a fixed random subset of N dev examples."),
    pooling: Optional[str] = typer.Option(None, "--pooling", help="Features of --regime probe (mean, cls, last) or fine-tune head input (auto, cls, mean, last)."),
) -> None:
    """Compare ADAPTED against BASE on the same examples of each task, with paired statistics.

    --regime prompt (default) scores both checkpoints as they are; finetune fine-tunes both
    backbones per task with the same seeds and hyperparameters; probe fits a logistic regression
    on frozen features; intrinsic scores (pseudo-)perplexity of held-out text. See docs/regimes.md.
    """
    from dabench.render.terminal import print_comparison

    task_names = [t.strip() for t in (tasks or "").split(",") if t.strip()]
    if from_lmeval:
        from dabench.lmeval import compare_from_lmeval

        comparison = compare_from_lmeval(base, adapted, tasks=task_names or None, resamples=resamples, seed=seed,
                                         alpha=alpha, margin=margin, correction=correction)
    elif not task_names:
        raise DabenchError("--tasks is required (task or suite names; see `dabench tasks list`)")
    else:
        from dabench.cli.regime_cmd import parse_seeds, run_comparison

        comparison = run_comparison(
            base, adapted, task_names, regime=regime,
            data_dir=data_dir, data_files=parse_data_files(data_file, task_names), limit=limit, shots=shots or None,
            seed=seed, resamples=resamples, alpha=alpha, margin=margin, correction=correction, domain=domain,
            select_prompt=select_prompt or None, store_path=store, tasks_dirs=[str(d) for d in tasks_dir],
            lmeval_include_path=[str(p) for p in lmeval_include_path] or None,
            progress=not (no_progress or as_json), batch_size=batch_size,
            engine_options={"device": device, "dtype": dtype, "trust_remote_code": trust_remote_code},
            preset=preset, seeds=parse_seeds(seeds), epochs=epochs, lr=lr, patience=patience, max_length=max_length,
            train_limit=train_limit, dev_limit=dev_limit, pooling=pooling)
    data = comparison.to_dict()
    out_dir = out or default_out_dir(base, adapted)
    written = write_outputs(data, out_dir)
    if as_json:
        sys.stdout.write(comparison.to_json())
        return
    print_comparison(data)
    typer.echo("wrote " + ", ".join(str(p) for p in written))

