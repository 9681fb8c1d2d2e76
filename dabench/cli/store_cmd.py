"""``dabench store``: operations on whole record stores (merging the shard stores of batch jobs)."""

from __future__ import annotations

from pathlib import Path

import typer

from dabench.cli.root import app

store_app = typer.Typer(help="Operations on whole record stores.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("merge")
def merge(
    out: Path = typer.Argument(..., help="The store to merge into (created if missing)."),
    inputs: list[Path] = typer.Argument(..., help="Stores to merge from, e.g. the shard-I.sqlite of each batch job."),
) -> None:
    """Merge record stores (idempotent): afterwards a plain `dabench compare` with --store OUT finds
    every shard's records and only does the statistics. Conflicting records for one key are an error."""
    from dabench.store import Store

    with Store(out) as target:
        for path in inputs:
            runs, records = target.merge(path)
            typer.echo(f"{path}: {runs} run(s), {records} record(s) added to {out}")
