"""Progress reporting for long runs: a rich progress bar, or nothing."""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

if TYPE_CHECKING:  # rich loads only when bars are drawn
    from rich.progress import Progress as RichBars

Advance = Callable[[int], None]


class Progress(Protocol):
    def task(self, description: str, total: int) -> Advance:
        """Start a bar; returns a function that advances it."""

    def note(self, message: str) -> None:
        """A one-line status message."""


class NullProgress:
    """Reports nothing."""

    def task(self, description: str, total: int) -> Advance:
        return lambda n: None

    def note(self, message: str) -> None:
        pass


class RichProgress:
    """Bars on stderr with rich."""

    def __init__(self, progress: RichBars) -> None:
        self._p = progress

    def task(self, description: str, total: int) -> Advance:
        tid = self._p.add_task(description, total=total)
        return lambda n: self._p.advance(tid, n)

    def note(self, message: str) -> None:
        self._p.console.print(message)


def progress_context(progress: bool | Progress) -> AbstractContextManager[Progress]:
    """A context yielding a :class:`Progress`: rich bars for True, nothing for False, or the
    caller's own reporter as it is."""
    return rich_progress(progress) if isinstance(progress, bool) else nullcontext(progress)


@contextmanager
def rich_progress(enabled: bool = True) -> Iterator[Progress]:
    """A progress reporter that draws on stderr while the block runs."""
    if not enabled:
        yield NullProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeElapsedColumn

    with RP(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as p:
        yield RichProgress(p)
