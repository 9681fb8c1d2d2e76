"""The package type-checks: ``python3 -m mypy`` with the settings of pyproject.toml exits 0.

mypy reads ``[tool.mypy]`` from pyproject.toml (the files to check, ``disallow_untyped_defs``,
the third-party packages that ship no types), so this runs exactly what a developer runs
from the repository root. A cold run takes about a minute; later runs reuse ``.mypy_cache``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: seconds; a cold run on two cores takes about one minute
TIMEOUT = 900


def test_mypy_passes() -> None:
    assert importlib.util.find_spec("mypy") is not None, "mypy is not installed: pip install -e '.[test]'"
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"mypy exited with {proc.returncode}:\n{proc.stdout}{proc.stderr}"
