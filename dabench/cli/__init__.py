"""The ``dabench`` command line.

Each command group lives in its own module and registers itself on ``app``. ``main`` runs
the app and turns a :class:`~dabench.errors.DabenchError` into one line on stderr and its
exit code (2 for bad input) instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import Protocol, cast

import typer

from dabench.cli.root import app
from dabench.errors import DabenchError

__all__ = ["app", "main"]


def _register() -> None:
    # imported for their side effect of adding commands to ``app``
    from dabench.cli import (  # noqa: F401
        compare_cmd, data_cmd, demo_cmd, gate_cmd, leaderboard_cmd, lmeval_cmd, regime_cmd, report_cmd, runs_cmd, score_cmd, stats_cmd,
        tasks_cmd,
    )


class _ClickError(Protocol):
    """What ``main`` uses of a click usage error (click's ``ClickException``, in either copy)."""

    exit_code: int

    def show(self) -> None:
        ...


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
            usage = cast(_ClickError, exc)  # found by name at run time, so its type is known only here
            usage.show()
            return usage.exit_code
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
