"""Locate and read a task's data files.

:func:`load_split` is the one way every command reads a split: it finds the file with
:func:`dabench.data.sources.locate_split` (which gives the order of places looked in) and
reads it with the reader the spec names. See ``docs/data.md`` for the layout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from dabench.data.example import Example
from dabench.data.readers import READERS
from dabench.data.sources import ENV_DATA_DIR, file_sha256, locate_split, override_path, resolve_data_dir
from dabench.errors import TaskError
from dabench.taskspec import TaskSpec


def read_examples(spec: TaskSpec, path: Path, split: str, errors: list[str] | None = None) -> list[Example]:
    """Read one split file with the reader the spec names (bad rows go to ``errors`` when it is a list)."""
    try:
        reader = READERS[spec.format]
    except KeyError:
        raise TaskError(f"task {spec.name!r}: unknown format {spec.format!r}; known: {', '.join(READERS)}") from None
    return reader(path, spec, split, errors=errors)


def load_split(
    spec: TaskSpec,
    split: str,
    data_dir: Path | None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
    *,
    download: bool | None = None,
    errors: list[str] | None = None,
) -> tuple[list[Example], str]:
    """Examples of one split plus the sha256 of the file they came from.

    ``download`` allows fetching a missing file (None: as ``DABENCH_DOWNLOAD`` says); with
    ``errors`` a list, bad rows are collected there instead of raising."""
    path, reading = locate_split(spec, split, data_dir, overrides, download=download)
    return read_examples(reading, path, split, errors), file_sha256(path)


__all__ = ["Example", "ENV_DATA_DIR", "file_sha256", "load_split", "override_path", "read_examples", "resolve_data_dir"]
