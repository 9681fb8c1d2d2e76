"""Where a comparison's files go: ``comparison.json``, ``examples.jsonl`` and the Markdown and HTML reports, in
``--out`` or ``reports/<adapted>_vs_<base>/`` (shared by ``compare``, ``lmeval`` and ``demo``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping


def default_out_dir(base: str, adapted: str) -> Path:
    def slug(s: str) -> str:
        return re.sub(r"[^\w.-]+", "_", Path(s.rstrip("/")).name or s)[:60]

    return Path("reports") / f"{slug(adapted)}_vs_{slug(base)}"


def write_outputs(data: dict[str, Any], out: Path, examples: Mapping[str, Any] | None = None) -> list[Path]:
    """comparison.json, its per-example rows (examples.jsonl, when there are any) and the
    Markdown and HTML reports."""
    from dabench.comparison import Comparison
    from dabench.example_rows import EXAMPLES_FILE, example_lines, write_examples

    out.mkdir(parents=True, exist_ok=True)
    written = [Comparison.from_dict(data).save(out / "comparison.json")]
    stale = out / EXAMPLES_FILE
    if examples:
        written.append(write_examples(example_lines(examples), stale))
    elif stale.exists():
        stale.unlink()  # rows of an earlier comparison in this folder must not pass for this one's
    from dabench.render.html import write_html_report
    from dabench.render.markdown import write_markdown_report

    write_markdown_report(data, out / "report.md")
    write_html_report(data, out / "report.html")
    written += [out / "report.md", out / "report.html"]
    return written


def emit_comparison(comparison: Any, out: Path, as_json: bool) -> list[Path]:
    """Write a finished comparison's files to ``out``, then print comparison.json (``as_json``)
    or the table and the files written; returns the files."""
    import sys

    import typer

    data = comparison.to_dict()
    written = write_outputs(data, out, comparison.examples())
    if as_json:
        sys.stdout.write(comparison.to_json())
        return written
    from dabench.render.terminal import print_comparison

    print_comparison(data)
    typer.echo("wrote " + ", ".join(str(p) for p in written))
    return written


def check_writable(path: Path) -> None:
    """Refuse, before any model loads, an output file that cannot be written: its folder cannot
    be created, or is not writable (so a finished run is never lost at the last step)."""
    import os
    import tempfile

    from dabench.errors import DabenchError

    folder = Path(path).parent
    blocking = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise DabenchError(f"{path}: cannot write it ({blocking} is a file, not a folder); choose another path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".dabench-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DabenchError(f"{path}: cannot write to {folder} ({exc.strerror or exc}); choose another path") from None
