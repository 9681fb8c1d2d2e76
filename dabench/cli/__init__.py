"""The ``dabench`` command line.

Each command group lives in its own module and registers itself on ``app``. ``main`` runs
the app and turns a :class:`~dabench.errors.DabenchError` into one line on stderr and its
exit code (2 for bad input) instead of a traceback.
"""

from __future__ import annotations

import sys

import typer

from dabench._version import __version__
from dabench.errors import DabenchError

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


def _register() -> None:
    # imported for their side effect of adding commands to ``app``
    from dabench.cli import (  # noqa: F401
        compare_cmd, data_cmd, demo_cmd, gate_cmd, leaderboard_cmd, lmeval_cmd, regime_cmd, report_cmd, runs_cmd, score_cmd, stats_cmd,
        tasks_cmd,
    )


def _click_exceptions() -> tuple[type[BaseException], ...]:
    """Click's usage-error base class, as click itself and as the copy recent typer versions vendor."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dabench`` console script."""
    _register()
    try:
        rv = app(args=argv, standalone_mode=False)
    except DabenchError as exc:
        typer.echo(f"dabench: error: {exc}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("dabench: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("dabench: interrupted; finished examples are stored and a re-run resumes from them", err=True)
        return 130
    except Exception as exc:  # usage errors (an unknown option, a missing or extra argument)
        if isinstance(exc, _click_exceptions()):
            exc.show()
            return exc.exit_code
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
