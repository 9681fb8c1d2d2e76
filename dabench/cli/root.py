"""The root ``dabench`` Typer application, on which every command module registers its commands.

It lives apart from :mod:`dabench.cli` (which imports every command module to register them
and runs the app): a command module imports ``app`` from here, so no command module imports
the package that imports it.
"""

from __future__ import annotations

import typer

from dabench._version import __version__

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
