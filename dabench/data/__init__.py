"""Locate and read a task's data files.

Data is read from a local data dir laid out like ``shared/data`` (``<family dir>/<file>``,
the path each task spec lists under ``files``), given by ``--data-dir`` or the
``DABENCH_DATA_DIR`` environment variable, or from a per-split override file
(``--data-file test=PATH``). A spec with ``data_source: package`` reads files shipped
inside dabench instead (:mod:`dabench.data.packaged`). See ``docs/data.md`` for the layout.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Mapping

from dabench.data.example import Example
from dabench.data.packaged import is_packaged, packaged_path
from dabench.data.readers import READERS
from dabench.errors import DataError, TaskError
from dabench.taskspec import TaskSpec

ENV_DATA_DIR = "DABENCH_DATA_DIR"


def resolve_data_dir(value: str | os.PathLike | None) -> Path | None:
    """The data dir from an explicit value or ``DABENCH_DATA_DIR``; None if neither is set."""
    raw = value if value is not None else os.environ.get(ENV_DATA_DIR)
    if raw is None or str(raw) == "":
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise DataError(f"data dir {path} does not exist or is not a directory (--data-dir / {ENV_DATA_DIR})")
    return path.resolve()  # absolute, so a stored comparison replays from any folder


def override_path(split: str, value: str | os.PathLike) -> Path:
    """The file a ``--data-file SPLIT=PATH`` override names, checked to be a readable file.

    A directory is refused as such (not as "not found"), since the path does exist and the
    user needs to know that a single split file is expected there.
    """
    path = Path(value).expanduser()
    if path.is_dir():
        raise DataError(f"--data-file {split}={path}: is a directory; pass the split's data file, not a folder")
    if not path.is_file():
        raise DataError(f"--data-file {split}={path}: file not found")
    return path


def split_path(
    spec: TaskSpec,
    split: str,
    data_dir: Path | None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
) -> Path:
    """The file holding ``split`` of ``spec``; a clear error when it is not there."""
    if overrides and split in overrides:
        return override_path(split, overrides[split])
    if split not in spec.files:
        known = ", ".join(spec.files)
        raise TaskError(f"task {spec.name!r} has no split {split!r}; known splits: {known}")
    if is_packaged(spec):
        return packaged_path(spec, split)
    rel = spec.files[split]
    how = spec.source.get("instructions") or spec.source.get("url") or "see docs/data.md"
    if data_dir is None:
        raise DataError(
            f"task {spec.name!r} needs {rel} but no data dir is set: pass --data-dir DIR "
            f"or set {ENV_DATA_DIR}; to get the file: {how}"
        )
    path = data_dir / rel
    if not path.is_file():
        raise DataError(f"task {spec.name!r}: expected {path} (split {split!r}); to get it: {how}")
    return path


def read_examples(spec: TaskSpec, path: Path, split: str) -> list[Example]:
    """Read one split file with the reader the spec names."""
    try:
        reader = READERS[spec.format]
    except KeyError:
        raise TaskError(f"task {spec.name!r}: unknown format {spec.format!r}; known: {', '.join(READERS)}") from None
    return reader(path, spec, split)


def load_split(
    spec: TaskSpec,
    split: str,
    data_dir: Path | None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
) -> tuple[list[Example], str]:
    """Examples of one split plus the sha256 of the file they came from."""
    path = split_path(spec, split, data_dir, overrides)
    return read_examples(spec, path, split), file_sha256(path)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


__all__ = ["Example", "ENV_DATA_DIR", "load_split", "override_path", "read_examples", "resolve_data_dir", "split_path", "file_sha256"]
