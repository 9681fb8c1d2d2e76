"""The task registry: every ``*.yaml`` spec under the built-in tasks dir and any extra dirs.

Built-in specs ship inside the wheel as ``dabench/_tasks`` (mapped from the checkout's
top-level ``tasks/``), so the registry works from an installed package and from a checkout
alike. A YAML file holds one spec (a mapping) or several (a list of mappings).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Iterable, Protocol, TypeVar

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


class _Spec(Protocol):
    name: str
    suites: list[str]


S = TypeVar("S", bound=_Spec)


class SpecRegistry(Generic[S]):
    """Specs of one ``kind`` by name (``model``, read from the ``*<suffix>`` files under
    ``dirs``), and the suites they belong to."""

    kind = "task"
    none_given = "no tasks given; pass --tasks with task or suite names (see `dabench tasks list`)"
    suffix = ".yaml"
    model: type[Any] = TaskSpec

    def __init__(self, dirs: Iterable[Path]) -> None:
        self._dirs = tuple(dirs)
        self._specs: dict[str, S] = {}
        origin: dict[str, Path] = {}
        for path in spec_files(self._dirs, self.suffix):
            for spec in load_specs(path, self.model, self.kind):
                if spec.name in self._specs:
                    raise TaskError(f"{path}: {self.kind} {spec.name!r} is already defined in {origin[spec.name]}")
                self._specs[spec.name] = spec
                origin[spec.name] = path

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> S:
        try:
            return self._specs[name]
        except KeyError:
            raise self.unknown(name, self.kind) from None

    def unknown(self, name: str, kind: str) -> TaskError:
        """The error for a ``name`` that is not a known ``kind`` ("task", "suite", "task or
        suite"), listing every known task, intrinsic task and suite, so the message alone suffices."""
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

    def resolve(self, names: Iterable[str]) -> list[S]:
        """Specs for a list of task or suite names, in order, without duplicates."""
        suites = self.suites()
        out: list[S] = []
        for name in (n.strip() for n in names):
            if not name:
                continue
            if name not in self._specs and name not in suites:
                raise self.unknown(name, "task or suite")
            for n in [name] if name in self._specs else suites[name]:
                if self._specs[n] not in out:
                    out.append(self._specs[n])
        if not out:
            raise TaskError(self.none_given)
        return out


class Registry(SpecRegistry[TaskSpec]):
    """Task specs by name, and the suites they belong to."""


def _intrinsic_names(dirs: Iterable[Path]) -> tuple[set[str], set[str]]:
    """Names and suites of the intrinsic specs (``*.yml``) under ``dirs``, for messages only: read
    as plain YAML (importing :mod:`dabench.intrinsic.spec` would be a cycle), skipping files that do
    not parse (reported when the task is used)."""
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


def registry_dirs(builtin: Path, extra_dirs: Iterable[str | os.PathLike]) -> tuple[Path, ...]:
    """``builtin``, ``DABENCH_TASKS_PATH`` and ``extra_dirs`` (``--tasks-dir``, each of which must exist), resolved."""
    env = [Path(p) for p in os.environ.get(ENV_TASKS_PATH, "").split(os.pathsep) if p]
    dirs = (builtin, *env, *check_tasks_dirs(extra_dirs))
    return tuple(Path(d).resolve() for d in dirs)


@lru_cache(maxsize=8)
def _cached(dirs: tuple[Path, ...]) -> Registry:
    return Registry(dirs)


def get_registry(extra_dirs: Iterable[Path] = ()) -> Registry:
    """The registry of built-in tasks plus ``extra_dirs`` and ``DABENCH_TASKS_PATH``."""
    return _cached(registry_dirs(builtin_tasks_dir(), extra_dirs))
