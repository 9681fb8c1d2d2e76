"""``dabench leaderboard``: file comparison results into a leaderboard and build its site."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dabench.cli.root import app

leaderboard_app = typer.Typer(help="Publish comparisons as a static leaderboard site.", no_args_is_help=True)
app.add_typer(leaderboard_app, name="leaderboard")

_DIR_HELP = "Leaderboard folder: leaderboard.yaml (its definition) and records/*.json."


@leaderboard_app.command("add")
def leaderboard_add(
    results: list[Path] = typer.Argument(..., help="comparison.json (with the examples.jsonl beside it, when "
                                         "there is one) or sweep.json files."),
    directory: Path = typer.Option(Path("leaderboards"), "--dir", help=_DIR_HELP),
) -> None:
    """Validate comparison and sweep JSONs and file them as records of the leaderboard (idempotent)."""
    from dabench.leaderboard import add_records

    for added in add_records(list(results), directory):
        typer.echo(f"{added.status:9} {added.id}  ({added.path})")


@leaderboard_app.command("build")
def leaderboard_build(
    results: Optional[list[Path]] = typer.Argument(
        None, help="comparison.json / sweep.json files to add first (as `dabench leaderboard add` does)."),
    directory: Path = typer.Option(Path("leaderboards"), "--dir", help=_DIR_HELP),
    out: Path = typer.Option(Path("leaderboard-site"), "--out", help="Folder to write the static site to."),
) -> None:
    """Build the static site: overview with the gain/cost plot, a page per pair (provenance, the
    command that reproduces it, downloads) and per sweep, flip pages per task, methods. Open
    OUT/index.html; no server needed, no network request."""
    from dabench.leaderboard import build_site

    if results:
        leaderboard_add(results, directory)
    files = build_site(directory, out)
    typer.echo(f"wrote {len(files)} files to {out}; open {out / 'index.html'}")
