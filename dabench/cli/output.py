"""Where a comparison's files go: ``comparison.json``, ``examples.jsonl`` and the Markdown and HTML reports, in
``--out`` or ``reports/<adapted>_vs_<base>/`` (shared by ``compare``, ``lmeval`` and ``demo``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def default_out_dir(base: str, adapted: str) -> Path:
    def slug(s: str) -> str:
        return re.sub(r"[^\w.-]+", "_", Path(s.rstrip("/")).name or s)[:60]

    return Path("reports") / f"{slug(adapted)}_vs_{slug(base)}"


def emit_comparison(comparison: Any, out: Path, as_json: bool) -> None:
    """Write a finished comparison's files to ``out`` (comparison.json, its per-example rows in examples.jsonl
    when there are any, report.md and report.html), then print comparison.json (``as_json``) or the table and
    the files written."""
    import sys

    import typer

    from dabench.comparison import Comparison
    from dabench.example_rows import EXAMPLES_FILE, example_lines, write_examples
    from dabench.render.html import write_html_report
    from dabench.render.markdown import write_markdown_report

    data = comparison.to_dict()
    out.mkdir(parents=True, exist_ok=True)
    written = [Comparison.from_dict(data).save(out / "comparison.json")]
    stale = out / EXAMPLES_FILE
    if examples := comparison.examples():
        written.append(write_examples(example_lines(examples), stale))
    elif stale.exists():
        stale.unlink()  # rows of an earlier comparison in this folder must not pass for this one's
    write_markdown_report(data, out / "report.md")
    write_html_report(data, out / "report.html")
    written += [out / "report.md", out / "report.html"]
    if as_json:
        sys.stdout.write(comparison.to_json())
        return
    from dabench.render.terminal import print_comparison

    print_comparison(data)
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def check_writable(path: Path) -> None:
    """Refuse, before any model loads, an output file that cannot be written: its folder cannot
    be created, or is not writable (so a finished run is never lost at the last step)."""
    import tempfile

    from dabench.errors import DabenchError

    folder = Path(path).parent
    blocking = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise DabenchError(f"{path}: cannot write it ({blocking} is a file, not a folder); choose another path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".dabench-write-test-"):
            pass
    except OSError as exc:
        raise DabenchError(f"{path}: cannot write to {folder} ({exc.strerror or exc}); choose another path") from None
