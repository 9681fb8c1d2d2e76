"""``dabench report``: re-render a stored comparison as HTML or Markdown, running nothing.

The output is a pure function of the JSON: the same file gives the same bytes on every run.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dabench.cli.root import app
from dabench.errors import DabenchError

FORMATS = ("html", "md")


@app.command("report")
def report(
    comparison: Path = typer.Argument(..., help="A comparison.json written by `dabench compare` (or `dabench gate --out`)."),
    fmt: str = typer.Option("html", "--format", "-f", help="html (one self-contained file) or md (Markdown)."),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Write here instead of stdout. For md, the forest plot is written beside it as NAME.forest.svg.",
    ),
) -> None:
    """Render a stored comparison as a self-contained HTML report or as Markdown."""
    from dabench.comparison import read_comparison

    if fmt not in FORMATS:
        raise DabenchError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    data = read_comparison(comparison)
    if fmt == "html":
        from dabench.render.html import render_html, write_html_report

        if out is None:
            typer.echo(render_html(data), nl=False)
            return
        written = [write_html_report(data, out)]
    else:
        from dabench.render.markdown import render_markdown, write_markdown_report

        if out is None:
            typer.echo(render_markdown(data), nl=False)
            return
        written = write_markdown_report(data, out)
    for path in written:
        typer.echo(f"wrote {path}", err=True)
