"""The task registry: every ``*.yaml`` spec under the built-in tasks dir and any extra dirs.

Built-in specs ship inside the wheel as ``dabench/_tasks`` (mapped from the checkout's
top-level ``tasks/``), so the registry works from an installed package and from a checkout
alike. A YAML file holds one spec (a mapping) or several (a list of mappings).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dabench.errors import TaskError
from dabench.taskspec import TaskSpec

ENV_TASKS_PATH = "DABENCH_TASKS_PATH"
#: the file suffix of intrinsic (held-out text) task specs, read by :mod:`dabench.intrinsic.spec`
INTRINSIC_SUFFIX = ".yml"

M = TypeVar("M", bound=BaseModel)


def builtin_tasks_dir() -> Path:
    """``dabench/_tasks`` in an installed wheel, else the checkout's ``tasks/``."""
    here = Path(__file__).resolve().parent
    packaged = here / "_tasks"
    if packaged.is_dir():
        return packaged
    return here.parent / "tasks"


def spec_files(dirs: Iterable[Path], suffix: str = ".yaml") -> list[Path]:
    """The spec files (``*<suffix>``, recursively) of each existing folder of ``dirs``, sorted per folder."""
    files: list[Path] = []
    for d in dirs:
        if d.is_dir():
            files.extend(sorted(p for p in d.rglob(f"*{suffix}") if p.is_file()))
    return files


def load_specs(path: Path, model: type[M], kind: str = "task") -> list[M]:
    """Parse and validate the specs (``model``) of one YAML file: a mapping, or a list of
    mappings (safe_load only). ``kind`` names a spec in errors."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    items = data if isinstance(data, list) else [data]
    specs = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TaskError(f"{path}: entry {i} is not a mapping")
        try:
            specs.append(model.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"]) or "(spec)"
            raise TaskError(f"{path}: {kind} {item.get('name', '?')!r} field {loc}: {err['msg']}") from None
    return specs


def load_spec_file(path: Path) -> list[TaskSpec]:
    """Parse and validate the task specs of one YAML file (safe_load only)."""
    return load_specs(path, TaskSpec)


class Registry:
    """Task specs by name, and the suites they belong to."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self._dirs = tuple(dirs)
        self._specs: dict[str, TaskSpec] = {}
        self._origin: dict[str, Path] = {}
        for path in spec_files(self._dirs):
            for spec in load_spec_file(path):
                if spec.name in self._specs:
                    raise TaskError(f"{path}: task {spec.name!r} is already defined in {self._origin[spec.name]}")
                self._specs[spec.name] = spec
                self._origin[spec.name] = path

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> TaskSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise self.unknown(name, "task") from None

    def unknown(self, name: str, kind: str) -> TaskError:
        """The error for a ``name`` that is not a known ``kind`` ("task", "suite", "task or
        suite"), listing every known task, intrinsic task and suite so that the user can
        pick the right one from the message alone."""
        inames, isuites = _intrinsic_names(self._dirs)
        suites = sorted(set(self.suites()) | isuites)
        return TaskError(
            f"unknown {kind} {name!r}; known tasks: {', '.join(self.names()) or '(none)'}; "
            f"intrinsic tasks: {', '.join(sorted(inames)) or '(none)'}; suites: {', '.join(suites) or '(none)'} "
            "(see `dabench tasks list`)"
        )

    def suites(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for spec in self._specs.values():
            for s in spec.suites:
                out.setdefault(s, []).append(spec.name)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def resolve(self, names: Iterable[str]) -> list[TaskSpec]:
        """Specs for a list of task or suite names, in order, without duplicates."""
        suites = self.suites()
        out: list[TaskSpec] = []
        for name in names:
            name = name.strip()
            if not name:
                continue
            members = suites.get(name) if name not in self._specs else None
            if members is None and name not in self._specs:
                raise self.unknown(name, "task or suite")
            for n in members or [name]:
                spec = self.get(n)
                if spec not in out:
                    out.append(spec)
        if not out:
            raise TaskError("no tasks given; pass --tasks with task or suite names (see `dabench tasks list`)")
        return out


def _intrinsic_names(dirs: Iterable[Path]) -> tuple[set[str], set[str]]:
    """Names and suites of the intrinsic specs (``*.yml``) under ``dirs``, for messages only.

    Read here with plain YAML, without validating (that is :mod:`dabench.intrinsic.spec`'s
    job), because importing that module from here would be an import cycle; a file that
    does not parse is skipped, as it will be reported when the task is actually used.
    """
    names: set[str] = set()
    suites: set[str] = set()
    for path in spec_files(dirs, INTRINSIC_SUFFIX):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.add(item["name"])
                listed = item.get("suites")
                if isinstance(listed, list):
                    suites.update(str(x) for x in listed)
    return names, suites


def check_tasks_dirs(dirs: Iterable[str | os.PathLike]) -> list[Path]:
    """The ``--tasks-dir`` folders as paths, refusing one that does not exist or is not a
    folder: a mistyped folder would otherwise be skipped and its tasks reported unknown."""
    out = []
    for d in dirs:
        path = Path(d).expanduser()
        if not path.exists():
            raise TaskError(f"--tasks-dir {path}: no such folder; pass a folder holding task YAML specs")
        if not path.is_dir():
            raise TaskError(f"--tasks-dir {path}: is not a folder; pass the folder holding the task YAML specs, not a file")
        out.append(path)
    return out


def extra_task_dirs() -> list[Path]:
    raw = os.environ.get(ENV_TASKS_PATH, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


@lru_cache(maxsize=8)
def _cached(dirs: tuple[Path, ...]) -> Registry:
    return Registry(dirs)


def get_registry(extra_dirs: Iterable[Path] = ()) -> Registry:
    """The registry of built-in tasks plus ``extra_dirs`` (``--tasks-dir``, each of which
    must exist) and ``DABENCH_TASKS_PATH``."""
    dirs = (builtin_tasks_dir(), *extra_task_dirs(), *check_tasks_dirs(extra_dirs))
    return _cached(tuple(Path(d).resolve() for d in dirs))
