"""``dabench demo``: the whole product on its embedded default, offline, on a CPU.

Builds a small base causal LM and an adapted copy (continued pretraining on a pharmacology corpus),
compares them on the suite ``demo`` (its data ships with dabench) and writes the reports. The two
checkpoints stay in the output dir, for the gate command it prints (which needs no data or task flags).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from dabench.cli.flags import NO_PROGRESS
from dabench.cli.root import app


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("reports/demo"), "--out", help="Output dir for the models, store and reports."),
    seed: int = typer.Option(0, "--seed", help="Seed for training and resampling."),
    resamples: int = typer.Option(10_000, "--resamples", help="Bootstrap / permutation resamples."),
    as_json: bool = typer.Option(False, "--json", help="Print comparison.json to stdout instead of the table."),
    no_progress: bool = NO_PROGRESS,
) -> None:
    """Build a base and a domain-adapted model and compare them on the built-in mini suite (offline, CPU, about a minute)."""
    from dabench.cli.output import emit_comparison
    from dabench.pipeline import compare
    from dabench.demo import DEMO_SUITE
    from dabench.demo.build import BuildConfig, build_demo
    from dabench.progress import rich_progress

    with rich_progress(not (no_progress or as_json)) as prog:
        advance = prog.task("building demo models", 100)
        done = [0]

        def report(stage: str, fraction: float) -> None:
            target = int(round(100 * fraction))
            if target > done[0]:
                advance(target - done[0])
                done[0] = target

        assets = build_demo(out / "models", seed=seed, progress=report, config=BuildConfig(num_threads=1))
        comparison = compare(
            str(assets.base_dir), str(assets.adapted_dir), [DEMO_SUITE],
            seed=seed, resamples=resamples, store_path=out / "store.sqlite", progress=prog,
        )
    emit_comparison(comparison, out, as_json)
    if not as_json:
        typer.echo(gate_hint(assets.adapted_dir, assets.base_dir))
        typer.echo(leaderboard_hint(out))


def gate_hint(adapted_dir: Path, base_dir: Path) -> str:
    """The follow-up gate command, runnable as printed from the current dir: the base as the
    candidate against the adapted model as the baseline, which fails on ``demo_domain``."""
    return "try the gate: " + shlex.join(["dabench", "gate", str(adapted_dir), str(base_dir), "--tasks", "demo_domain"])


def leaderboard_hint(out: Path) -> str:
    """The one command that publishes the demo's result as a leaderboard site (with every flip)."""
    return "build a leaderboard from it: " + shlex.join([
        "dabench", "leaderboard", "build", str(out / "comparison.json"), "--dir", str(out / "leaderboard"),
        "--out", str(out / "site")])
