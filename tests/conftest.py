"""Session-wide fixtures: the shared real-data dir and small models built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# one intra-op thread: on a 2-core machine, 2 threads spin-wait on small ops and run slower
torch.set_num_threads(1)

SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session", autouse=True)
def _private_data_cache(tmp_path_factory: pytest.TempPathFactory):
    """Every command finds split files through the one locator, which also reads the download
    cache: point it at an empty folder so no test sees (or fills) the user's cache, and fetch nothing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DABENCH_CACHE_DIR", str(tmp_path_factory.mktemp("data_cache")))
        mp.delenv("DABENCH_DOWNLOAD", raising=False)
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data slices that sit beside the project (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def lm_pair(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(base, adapted) tiny GPT-2 checkpoints; adapted = base + continued pretraining on ChemProt text."""
    from tests._builders.models import build_lm_pair

    return build_lm_pair(shared_data, tmp_path_factory.mktemp("lm_pair"))


@pytest.fixture(scope="session")
def bert_pair(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(base, adapted) tiny BERT backbones (masked LMs; adapted = base + MLM steps on ChemProt text)."""
    from tests._builders.models import build_bert_pair

    return build_bert_pair(shared_data, tmp_path_factory.mktemp("bert_pair"))


@pytest.fixture(scope="session")
def lmeval_tasks(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lm-eval task YAMLs over the shared-data slices (``dab_sst2``, ``dab_chemprot``, …)."""
    from tests.lmeval.conftest import write_tasks

    return write_tasks(tmp_path_factory.mktemp("lmeval_tasks"), shared_data)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every weight load of the test (engines, LMs and backbones all load through
    ``ckpts.load_model``), by checkpoint location."""
    from typing import Any

    from dabench.engines import checkpoints as ckpts

    seen: list[str] = []
    real = ckpts.load_model

    def counting(ck: Any, *a: Any, **k: Any) -> Any:
        seen.append(str(ck.location))
        return real(ck, *a, **k)

    monkeypatch.setattr(ckpts, "load_model", counting)
    return seen
