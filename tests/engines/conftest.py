"""Checkpoint fixtures for the engine tests, built once per session from ``lm_pair``."""

from __future__ import annotations

from pathlib import Path

import pytest

CHEMPROT_LABELS = ["INHIBITOR", "INDIRECT-DOWNREGULATOR", "SUBSTRATE", "INDIRECT-UPREGULATOR", "ACTIVATOR",
                   "ANTAGONIST", "PRODUCT-OF", "AGONIST", "DOWNREGULATOR", "UPREGULATOR", "SUBSTRATE_PRODUCT-OF",
                   "AGONIST-ACTIVATOR", "AGONIST-INHIBITOR"]


@pytest.fixture(scope="session")
def lora_adapter(lm_pair, shared_data, tmp_path_factory) -> Path:
    """A LoRA adapter whose adapter_config.json names the lm_pair base as its base."""
    from tests._builders.checkpoints import build_lora

    base, _ = lm_pair
    return build_lora(base, tmp_path_factory.mktemp("lora") / "adapter", shared_data)


@pytest.fixture(scope="session")
def weight_files(lm_pair, tmp_path_factory) -> dict[str, Path]:
    from tests._builders.checkpoints import arch_dir, write_weight_files

    _, adapted = lm_pair
    root = tmp_path_factory.mktemp("weights")
    files = write_weight_files(adapted, root / "files")
    files["arch"] = arch_dir(adapted, root / "arch")
    return files


@pytest.fixture(scope="session")
def classifiers(shared_data, tmp_path_factory) -> dict[str, Path]:
    """BERT classifiers: sst2 (id2label negative/positive), chemprot (13 labels, shuffled ids, extra 'false'),
    a default-named LABEL_k one, and an STS-B regressor."""
    from tests._builders.models import build_classifier
    from tests._builders.text import chemprot_text, general_text

    root = tmp_path_factory.mktemp("classifiers")
    sst, chem = general_text(shared_data), chemprot_text(shared_data, 500)
    shuffled = ["false"] + list(reversed(CHEMPROT_LABELS))
    return {
        "sst2": build_classifier(root / "sst2", sst, {0: "negative", 1: "positive"}),
        "sst2_default": build_classifier(root / "sst2_default", sst, {0: "LABEL_0", 1: "LABEL_1"}, seed=1),
        "chemprot": build_classifier(root / "chemprot", chem, dict(enumerate(shuffled)), seed=2),
        "stsb": build_classifier(root / "stsb", sst, {}, regression=True, seed=3),
    }


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny models run fastest on one thread; the shared CI box has two busy cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
