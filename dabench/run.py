"""Run a comparison from :class:`~dabench.options.RunOptions`: the one path from declared
options to :func:`dabench.compare`, used by every command that runs models and by gate replay.
"""

from __future__ import annotations

from typing import Any, Sequence

from dabench.comparison import Comparison
from dabench.options import RunOptions


def run_comparison(base: str, adapted: str, tasks: Sequence[str], options: RunOptions, *,
                   progress: Any = True) -> Comparison:
    """Compare ``adapted`` against ``base`` on ``tasks`` under ``options``."""
    from dabench.pipeline import compare

    return compare(base, adapted, list(tasks), progress=progress, **options.compare_kwargs(tasks))
