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
    from dabench.render.html import render_html, write_html_report
    from dabench.render.markdown import render_markdown, write_markdown_report

    if fmt not in FORMATS:
        raise DabenchError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    data = read_comparison(comparison)
    if out is None:
        typer.echo(render_html(data) if fmt == "html" else render_markdown(data), nl=False)
        return
    for path in [write_html_report(data, out)] if fmt == "html" else write_markdown_report(data, out):
        typer.echo(f"wrote {path}", err=True)
