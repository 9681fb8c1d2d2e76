"""``dabench lmeval``: head-to-head comparisons on lm-evaluation-harness tasks.

``dabench lmeval compare BASE ADAPTED --tasks lmeval:pubmedqa,...`` runs lm-eval tasks through
dabench's engines and store; ``dabench lmeval pair BASE_OUTPUT_DIR ADAPTED_OUTPUT_DIR``
(the same as ``dabench compare --from-lmeval``) pairs two existing ``--log_samples`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dabench.cli.root import app
from dabench.cli.flags import OUT_DIR, RawOptions, run_options, split_names
from dabench.cli.output import default_out_dir, emit_comparison
from dabench.errors import DabenchError

lmeval_app = typer.Typer(help="Compare on lm-eval tasks, or pair two lm-eval output folders.", no_args_is_help=True)
app.add_typer(lmeval_app, name="lmeval")


def parse_categories(values: list[str]) -> dict[str, str]:
    """``TASK=CATEGORY`` options → {task: category}."""
    from dabench.taskspec import CATEGORIES

    out = {}
    for v in values:
        task, sep, cat = v.partition("=")
        if not sep or cat not in CATEGORIES:
            raise DabenchError(f"--category {v!r}: expected TASK=CATEGORY with CATEGORY one of {', '.join(CATEGORIES)}")
        out[task.removeprefix("lmeval:")] = cat
    return out


@lmeval_app.command("pair")
def pair_command(
    base_dir: Path = typer.Argument(..., help="lm-eval --output_path folder of the base model (with --log_samples)."),
    adapted_dir: Path = typer.Argument(..., help="lm-eval --output_path folder of the adapted model."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma-separated lm-eval tasks (default: all shared)."),
    seed: int = typer.Option(0, "--seed", help="Seed for resampling."),
    resamples: int = typer.Option(10_000, "--resamples", help="Bootstrap / permutation resamples."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (after correction across tasks)."),
    margin: Optional[float] = typer.Option(None, "--margin", help="Equivalence / non-inferiority margin."),
    correction: str = typer.Option("holm", "--correction", help="holm or bh."),
    category: list[str] = typer.Option([], "--category", help="TASK=CATEGORY (in-domain, out-of-domain, knowledge)."),
    out: Optional[Path] = OUT_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print comparison.json to stdout."),
) -> None:
    """Pair two lm-eval runs' samples on (task, doc_id, filter) and test every task."""
    from dabench.lmeval import compare_from_lmeval

    names = split_names(tasks) if tasks else None
    comparison = compare_from_lmeval(base_dir, adapted_dir, tasks=names, resamples=resamples, seed=seed, alpha=alpha,
                                     margin=margin, correction=correction, categories=parse_categories(category))
    emit_comparison(comparison, out or default_out_dir(str(base_dir), str(adapted_dir)), as_json)


@lmeval_app.command("compare")
@run_options(names={"seed", "resamples", "alpha", "margin", "correction", "limit", "shots", "store", "engine",
                    "device", "dtype", "batch_size", "trust_remote_code", "adapter_base", "arch", "ckpt_prefix",
                    "allow_pickle", "executor", "ray_address", "workers", "gpus_per_worker", "cpus_per_worker",
                    "shard"})
def compare_command(
    base: str = typer.Argument(..., help="Base checkpoint."),
    adapted: str = typer.Argument(..., help="Adapted checkpoint (a PEFT adapter shares the base's load)."),
    tasks: str = typer.Option(..., "--tasks", "-t", help="Comma-separated lm-eval tasks, e.g. lmeval:pubmedqa,lmeval:medmcqa."),
    include_path: list[Path] = typer.Option([], "--include-path", help="Folder of extra lm-eval task YAMLs (repeatable)."),
    fewshot_seed: int = typer.Option(1234, "--fewshot-seed", help="lm-eval's few-shot sampler seed (its default 1234)."),
    category: list[str] = typer.Option([], "--category", help="TASK=CATEGORY (in-domain, out-of-domain, knowledge)."),
    out: Optional[Path] = OUT_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print comparison.json to stdout."),
    options: RawOptions = RawOptions(),
) -> None:
    """Run lm-eval tasks for BASE and ADAPTED through dabench's engines and store, and compare them.

    --shots: num_fewshot (default: each task's own); --batch-size default 16.
    """
    from dabench.lmeval import compare_lmeval_tasks

    names = split_names(tasks)
    run = options.layered()
    e = run.engine
    engine_options = {"device": e.device, "dtype": e.dtype, "batch_size": e.batch_size or 16,
                      "trust_remote_code": e.trust_remote_code, "adapter_base": e.adapter_base, "arch": e.arch,
                      "ckpt_prefix": e.ckpt_prefix, "allow_pickle": e.allow_pickle or None}
    st = run.stats
    comparison = compare_lmeval_tasks(
        base, adapted, names, include_path=include_path, limit=run.data.limit, shots=options.get("shots"),
        fewshot_seed=fewshot_seed, seed=st.seed, resamples=st.resamples, alpha=st.alpha, margin=st.margin,
        correction=st.correction, categories=parse_categories(category), store_path=run.run.store, engine=e.engine,
        engine_options=engine_options, executor=run.executor.build(), shard=run.executor.shard_of())
    emit_comparison(comparison, out or default_out_dir(base, adapted), as_json)
