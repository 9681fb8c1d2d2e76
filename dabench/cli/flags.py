"""Command-line flags: those built from the option declarations in :mod:`dabench.options`, and
those several commands declare alike.

``@run_options()`` adds one parameter per option field to a typer command, so ``compare``,
``gate`` and ``lmeval compare`` take the same flags with the same help. Every generated flag
defaults to ``None`` ("not given"); :meth:`RawOptions.layered` fills the rest from a stored
comparison (the gate's replay) or the option's declared default, which the help text shows.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from typing import Any, Callable, Mapping, Optional, TypeVar

import typer

from dabench.options import GROUPS, RunOptions, _default, all_fields

F = TypeVar("F", bound=Callable[..., Any])

#: the parameter a decorated command receives its options in
OPTIONS_PARAM = "options"

TASK_ARG = typer.Argument(..., help="Task name (see `dabench tasks list`).")
TASKS_DIR = typer.Option([], "--tasks-dir", help="Extra dir of task YAML specs (repeatable).")
DATA_DIR = typer.Option(None, "--data-dir", help="Local data dir (layout: docs/data.md); default $DABENCH_DATA_DIR.")
DATA_FILE = typer.Option([], "--data-file", help="Override one split's file: SPLIT=PATH (repeatable).")
DOWNLOAD = typer.Option(False, "--download",
                        help="Fetch missing files from their original URL or the HF hub into the cache.")
JSON_TEXT = typer.Option(False, "--json", help="Print JSON instead of text.")
NO_PROGRESS = typer.Option(False, "--no-progress", help="Do not draw progress bars.")
OUT_DIR = typer.Option(None, "--out", help="Output dir (default reports/<adapted>_vs_<base>).")


def split_names(text: str | None) -> list[str]:
    """The names of a comma-separated list (``--tasks a, b``)."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _cli_type(annotation: Any) -> Any:
    """The type typer parses for a field annotated ``annotation`` (always optional: unset = None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return Optional[list[typing.get_args(annotation)[0]]]  # type: ignore[misc]
    return Optional[annotation]


def _help(f: dataclasses.Field[Any]) -> str:
    default = _default(f)
    text = f.metadata["help"]
    if default is not None and default is not False and default != []:
        text += f" [default: {default}]"
    return text


def run_options(names: set[str] | None = None, exclude: frozenset[str] | set[str] = frozenset()
                ) -> Callable[[F], F]:
    """Decorate a typer command so that it takes the option flags (every option, or ``names``, less
    ``exclude``) and receives the given values as ``options: RawOptions``, to be layered by the command."""
    hints = {name: hint for group in GROUPS for name, hint in typing.get_type_hints(group).items()}
    added = []  # one keyword parameter per option field
    for name, f in all_fields().items():
        if (names is not None and name not in names) or name in exclude:
            continue
        flag = f.metadata["flag"]
        decls = [f"{flag}/--no-{flag[2:]}"] if hints[name] is bool else [flag]
        info = typer.Option(None, *decls, help=_help(f), show_default=False, metavar=f.metadata.get("metavar"))
        added.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info,
                                       annotation=_cli_type(hints[name])))
    added_names = [p.name for p in added]

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n, None) for n in added_names}
            return fn(*args, **kwargs, **{OPTIONS_PARAM: RawOptions(given)})

        params = [p for p in sig.parameters.values() if p.name != OPTIONS_PARAM] + added
        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return typing.cast(F, wrapper)

    return decorate


class RawOptions(dict[str, Any]):
    """The option values given on the command line, by option name (``None``: not given)."""

    def layered(self, stored: Mapping[str, Any] | None = None, **fixed: Any) -> RunOptions:
        """Validated :class:`RunOptions`: ``fixed`` values (a command's own), then what was given,
        over a stored comparison's config, over the defaults."""
        given = {k: v for k, v in self.items() if v is not None}
        given.update({k: v for k, v in fixed.items() if v is not None})
        return RunOptions.layered(given, stored)

    def given_names(self) -> list[str]:
        """The flags that were given."""
        fields = all_fields()
        return [fields[k].metadata["flag"] for k, v in self.items() if v not in (None, [], ())]
