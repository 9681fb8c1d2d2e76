"""Fixtures shared by the demo's tests: the shipped demo build (made once per session) and
the demo's task specs as the registry resolves them."""

from __future__ import annotations

import pytest

from dabench.demo import DEMO_SUITE, DemoAssets, build_demo
from dabench.registry import get_registry
from dabench.taskspec import TaskSpec


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoAssets, list[tuple[str, float]]]:
    """The shipped demo build (seed 0) and the progress calls it made."""
    calls: list[tuple[str, float]] = []
    out = tmp_path_factory.mktemp("demo")
    assets = build_demo(out, seed=0, progress=lambda stage, frac: calls.append((stage, frac)))
    return assets, calls


@pytest.fixture(scope="session")
def specs() -> dict[str, TaskSpec]:
    """The registered tasks of suite ``demo``, by name."""
    return {spec.name: spec for spec in get_registry().resolve([DEMO_SUITE])}
