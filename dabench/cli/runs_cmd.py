"""``dabench runs``: what the record store holds, and dropping runs from it."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from dabench.cli.root import app
from dabench.errors import DabenchError

if TYPE_CHECKING:  # the commands open the store when they run
    from dabench.store import Store

runs_app = typer.Typer(help="List or drop the runs kept in the record store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

_STORE_HELP = "Record store (default $DABENCH_STORE or ~/.cache/dabench/store.sqlite)."


def _open(store: Optional[Path]) -> Store:
    from dabench.store import Store, default_store_path

    path = store or default_store_path()
    if not path.exists():
        raise DabenchError(f"store {path}: no such file (nothing has been evaluated with it yet)")
    return Store(path)


@runs_app.command("list")
def list_runs(
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the runs as a JSON list."),
) -> None:
    """One line per run: model fingerprint, model, task, stored/planned examples, version, date."""
    with _open(store) as s:
        runs = s.runs()
    if as_json:
        sys.stdout.write(json.dumps(runs, indent=2) + "\n")
        return
    if not runs:
        typer.echo("no runs stored")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for col in ("model", "fingerprint", "task", "run", "examples", "dabench", "created"):
        table.add_column(col, justify="right" if col == "examples" else "left")
    for r in runs:
        when = _dt.datetime.fromtimestamp(r["created"]).strftime("%Y-%m-%d %H:%M")
        table.add_row(str(r["model_name"]), r["model_fp"][:12], str(r["task"]), r["run_key"][:8],
                      f"{r['stored']}/{r['n_examples']}", str(r["version"]), when)
    Console(highlight=False, soft_wrap=True).print(table)


@runs_app.command("drop")
def drop_runs(
    model: Optional[str] = typer.Option(None, "--model", help="Model fingerprint (or a prefix of it, 6+ characters)."),
    task: Optional[str] = typer.Option(None, "--task", help="Task name."),
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Delete the runs (and their records) of a model fingerprint and/or a task."""
    if model is None and task is None:
        raise DabenchError("runs drop: pass --model FINGERPRINT and/or --task TASK")
    if model is not None and len(model) < 6:
        raise DabenchError(f"runs drop --model {model!r}: give at least 6 characters of the fingerprint")
    with _open(store) as s:
        n = s.drop(model_fp=model, task=task)
    what = " and ".join(x for x in (f"model {model}" if model else "", f"task {task}" if task else "") if x)
    if n == 0:
        # a mistyped task or fingerprint must not look like a successful clean-up
        raise DabenchError(f"runs drop: no run matched {what}; see `dabench runs list` for what the store holds")
    typer.echo(f"dropped {n} run{'s' if n != 1 else ''} of {what}")
