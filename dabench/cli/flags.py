"""Command-line flags built from the option declarations in :mod:`dabench.options`.

``@run_options()`` adds one parameter per option field to a typer command, so ``compare``,
``gate`` and ``lmeval compare`` take the same flags with the same help and can never drift
apart. Every generated flag defaults to ``None`` ("not given"): the command receives a
:class:`~dabench.options.RunOptions` built by :meth:`RunOptions.layered`, where a value the
user did not give comes from a stored comparison (the gate's replay) or from the option's
declared default, which the help text shows.
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


def option_parameters(names: set[str] | None = None, exclude: frozenset[str] | set[str] = frozenset()
                      ) -> list[inspect.Parameter]:
    """One keyword parameter per option field (all of them, or those in ``names``)."""
    hints: dict[str, Any] = {}
    for group in GROUPS:
        hints.update(typing.get_type_hints(group))
    params = []
    for name, f in all_fields().items():
        if (names is not None and name not in names) or name in exclude:
            continue
        flag = f.metadata["flag"]
        is_bool = hints[name] is bool
        decls = [f"{flag}/--no-{flag[2:]}"] if is_bool else [flag]
        info = typer.Option(None, *decls, help=_help(f), show_default=False, metavar=f.metadata.get("metavar"))
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info,
                                        annotation=_cli_type(hints[name])))
    return params


def run_options(names: set[str] | None = None, exclude: frozenset[str] | set[str] = frozenset()
                ) -> Callable[[F], F]:
    """Decorate a typer command so that it takes the option flags (every option, or ``names``
    without ``exclude``) and receives them as ``options: RawOptions``: the given values by
    option name (``None`` for what was not given), to be layered by the command (see
    :meth:`RunOptions.layered`)."""

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        own = [p for p in sig.parameters.values() if p.name != OPTIONS_PARAM]
        added = option_parameters(names, exclude)
        added_names = [p.name for p in added]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n, None) for n in added_names}
            return fn(*args, **kwargs, **{OPTIONS_PARAM: RawOptions(given)})

        params = own + added
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
