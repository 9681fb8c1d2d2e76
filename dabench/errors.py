"""User-facing errors.

Every bad input (a missing file, a malformed row, an unknown task) is raised as a
`DabenchError` carrying one line that names the file or field and what to do. The CLI
prints that line and exits with `exit_code` (2 for usage/input errors) instead of a
traceback.
"""

from __future__ import annotations


class DabenchError(Exception):
    """An error caused by the user's input, reported as one clear line."""

    exit_code: int = 2

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DataError(DabenchError):
    """A data file is missing, unreadable or malformed."""


class TaskError(DabenchError):
    """A task is unknown or its spec is invalid."""


class OptionError(TaskError):
    """An option value that cannot be used (out of range, or set for a regime it does not apply to);
    a :class:`TaskError`, as the API raised for such options before options were declared once."""


class CheckpointError(DabenchError):
    """A checkpoint is missing, corrupt or cannot be loaded safely."""


class PairingError(DabenchError):
    """Two runs cannot be paired (their example ids differ)."""
