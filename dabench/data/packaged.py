"""Task data shipped inside the dabench package (``data_source: package`` in a task spec).

Such a spec's ``files`` are relative to the installed ``dabench`` package directory, so the
task (e.g. the ``demo`` suite) runs without ``--data-dir``, from a checkout and from a wheel
alike: hatch puts every file under ``dabench/`` into the wheel.
"""

from __future__ import annotations

from pathlib import Path

from dabench.errors import DataError
from dabench.taskspec import DataFiles, TaskSpec

#: the installed ``dabench`` package: the root of ``data_source: package`` paths
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def is_packaged(spec: DataFiles) -> bool:
    """Whether the spec's data ships with dabench (no data dir needed; task specs only)."""
    return isinstance(spec, TaskSpec) and spec.data_source == "package"


def packaged_path(spec: DataFiles, split: str) -> Path:
    """The shipped file of ``split`` (a known split of a packaged spec); one clear error
    line when the installation lacks it."""
    path = PACKAGE_ROOT / spec.files[split]
    if not path.is_file():
        raise DataError(
            f"task {spec.name!r} split {split!r}: its data ships with dabench but {path} is missing; "
            "reinstall dabench (a checkout needs the file committed under dabench/)"
        )
    return path


__all__ = ["PACKAGE_ROOT", "is_packaged", "packaged_path"]
