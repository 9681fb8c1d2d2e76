"""The ``dabench`` command line.

Each command group lives in its own module and registers itself on ``app``. ``main`` runs
the app and turns a :class:`~dabench.errors.DabenchError` into one line on stderr and its
exit code (2 for bad input) instead of a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol, cast

import typer

from dabench.cli.root import app
from dabench.errors import DabenchError
from dabench.orchestrator import ShardComputed

__all__ = ["app", "main"]


def _register() -> None:
    # imported for their side effect of adding commands to ``app``
    from dabench.cli import (  # noqa: F401
        compare_cmd, data_cmd, demo_cmd, gate_cmd, leaderboard_cmd, lmeval_cmd, regime_cmd, report_cmd, runs_cmd,
        score_cmd, stats_cmd, store_cmd, sweep_cmd, tasks_cmd,
    )


class _ClickError(Protocol):
    """What ``main`` uses of a click usage error (click's ``ClickException``, in either copy)."""

    exit_code: int

    def show(self) -> None: ...

    def format_message(self) -> str: ...


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
    except ShardComputed as exc:  # a --shard batch job did its part; nothing to compare yet
        typer.echo(f"dabench: {exc}", err=True)
        return 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("dabench: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("dabench: interrupted; finished examples are stored and a re-run resumes from them", err=True)
        return 130
    except Exception as exc:  # usage errors (an unknown option, a missing or extra argument), or a bug
        if isinstance(exc, _click_exceptions()):
            usage = cast(_ClickError, exc)  # found by name at run time, so its type is known only here
            usage.show()
            _gate_usage_junit(argv, usage.format_message())
            return usage.exit_code
        where = write_traceback(exc)
        typer.echo(f"dabench: internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                   f"(the full traceback is in {where}; please report it)", err=True)
        return 2
    return rv if isinstance(rv, int) else 0


def write_traceback(exc: BaseException) -> Path:
    """Write ``exc``'s traceback to a file (``$DABENCH_CRASH_DIR`` or the temp dir) and return it:
    an unexpected error is one line on stderr, exit code 2, and the details are kept."""
    import tempfile
    import time
    import traceback

    folder = Path(os.environ.get("DABENCH_CRASH_DIR") or tempfile.gettempdir())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"dabench-traceback-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        path = Path("(could not be written)")
    return path


def _gate_usage_junit(argv: list[str] | None, message: str) -> None:
    """A usage error of ``dabench gate … --junit FILE`` still writes FILE, with an ``<error>``, so
    CI shows why the gate could not run (the command itself never started)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "gate" not in args[:1]:
        return
    path = None
    for i, a in enumerate(args):
        if a == "--junit" and i + 1 < len(args):
            path = args[i + 1]
        elif a.startswith("--junit="):
            path = a.split("=", 1)[1]
    if path:
        from dabench.render.junit import write_junit_error

        try:
            write_junit_error(path, f"usage error: {message}")
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
