"""Renderers: read a Comparison, write a table, Markdown, HTML or JUnit."""

from __future__ import annotations

from pathlib import Path


def write_file(path: str | Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8 with ``\\n`` line ends) to ``path``, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path
