"""The root ``dabench`` Typer application, on which every command module registers its commands.

It lives apart from :mod:`dabench.cli` (which imports every command module to register them
and runs the app): a command module imports ``app`` from here, so no command module imports
the package that imports it.
"""

from __future__ import annotations

from typing import Any

import typer
import typer.core

from dabench._version import __version__


def _hide_flag_type() -> None:
    """Show no value type (typer 0.29 prints ``<bool>``) next to an on/off flag in ``--help``.

    A flag takes no value, so ``--json <bool>`` reads as if it wanted one. Typer's plain
    help already leaves the type out for flags; its rich help panel does not, for every
    flag, ``--help`` included, so this is fixed once here for all commands rather than with
    a ``metavar`` on each option.
    """
    option = typer.core.TyperOption
    original = getattr(option, "display_type_rich", None)
    if original is None or getattr(original, "_dabench_flag_fix", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and getattr(self, "metavar", None) is None:
            return None
        result: str | None = original(self, ctx)
        return result

    display_type_rich._dabench_flag_fix = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_type()

app = typer.Typer(
    name="dabench",
    help="Head-to-head evaluation of a domain-adapted model against its base model, with paired statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dabench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
) -> None:
    """dabench: did adaptation help in-domain, what did it cost out-of-domain, was knowledge kept?"""
