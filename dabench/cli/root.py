"""The root ``dabench`` Typer application, on which every command module registers its commands.

It lives apart from :mod:`dabench.cli` (which imports every command module and runs the app), so no
command module imports the package that imports it.
"""

from __future__ import annotations

from typing import Any

import typer
import typer.core

from dabench._version import __version__


def _hide_flag_type() -> None:
    """Show no value type next to an on/off flag in ``--help``: typer 0.29's rich help panel prints
    ``--json <bool>`` as if the flag wanted a value (its plain help does not); fixed once, for every command."""
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
