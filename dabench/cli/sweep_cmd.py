"""``dabench sweep``: a series of checkpoints against one base, as one family of tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from dabench.cli.flags import NO_PROGRESS, RawOptions, run_options, split_names
from dabench.cli.output import check_writable, default_out_dir
from dabench.cli.root import app
from dabench.errors import DabenchError


@app.command("sweep")
@run_options()
def sweep_command(
    base: str = typer.Argument(..., help="Base checkpoint (evaluated once; same forms as in `dabench compare`)."),
    checkpoints: Optional[list[str]] = typer.Argument(None, help="Checkpoints of the series (any order: sorted by "
                                                      "the step in trainer_state.json or in the name)."),
    pattern: Optional[str] = typer.Option(None, "--checkpoints", help="A glob of checkpoints to add, e.g. "
                                          "'run/checkpoint-*' (quote it)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma-separated task or suite names."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output dir (default reports/sweep_vs_<base>)."),
    as_json: bool = typer.Option(False, "--json", help="Print sweep.json to stdout instead of the table."),
    no_progress: bool = NO_PROGRESS,
    options: RawOptions = RawOptions(),
) -> None:
    """Compare every checkpoint with BASE on the same examples; one multiplicity correction over
    checkpoints x tasks; the trajectory, a recommendation (--margin) and the forgetting onset.

    Writes sweep.json, examples.jsonl (every checkpoint's per-example rows) and report.html (a
    trajectory plot per category) to --out.
    """
    from dabench.example_rows import EXAMPLES_FILE, example_lines, write_examples
    from dabench.render.sweep_report import sweep_html
    from dabench.sweep import sweep

    names = split_names(tasks)
    if not names:
        raise DabenchError("--tasks is required (task or suite names; see `dabench tasks list`)")
    out_dir = out or default_out_dir(base, "sweep")
    check_writable(out_dir / "sweep.json")
    kwargs = options.layered().compare_kwargs(names)
    result = sweep(base, checkpoints or [], names, pattern=pattern, progress=not (no_progress or as_json), **kwargs)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    (out_dir / "sweep.json").write_text(result.to_json(), encoding="utf-8")
    (out_dir / "report.html").write_text(sweep_html(data), encoding="utf-8")
    write_examples((line for p in result.points for line in example_lines(p.comparison.examples(), checkpoint=p.name)),
                   out_dir / EXAMPLES_FILE)
    if as_json:
        sys.stdout.write(result.to_json())
        return
    _print(data)
    typer.echo(f"wrote {out_dir / 'sweep.json'}, {out_dir / EXAMPLES_FILE}, {out_dir / 'report.html'}")


def _print(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from dabench.render import fmt

    console = Console(width=None if sys.stdout.isatty() else 160)
    tasks = [t["task"] for t in data["checkpoints"][0]["comparison"]["tasks"]]
    table = Table(title=f"sweep against {data['base']['name']} (Δ, adjusted over checkpoints x tasks)")
    table.add_column("checkpoint")
    table.add_column("step", justify="right")
    for t in tasks:
        table.add_column(t, justify="right")
    mark = {"win": " ▲", "loss": " ▼", "tie": ""}
    for cp in data["checkpoints"]:
        by = {t["task"]: t for t in cp["comparison"]["tasks"]}
        table.add_row(cp["name"], str(cp["step"]), *[fmt.signed(by[t]["delta"]) + mark[by[t]["verdict"]] for t in tasks])
    console.print(table)
    onset = ", ".join(f"{k}: {v}" for k, v in data["forgetting_onset"].items() if v is not None) or "none"
    console.print(f"forgetting onset (first significant loss): {onset}")
    console.print(f"recommendation: {data['recommendation']['reason']}")
