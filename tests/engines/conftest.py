"""Checkpoint fixtures for the engine tests, built once per session from ``lm_pair``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Iterator

import pytest

from tests.engines.vllm_server import VLLMServer

#: vllm is installed only in its own virtualenv, where test_vllm_cpu_build.py runs test_vllm.py;
#: in an environment without vllm there is nothing to collect from it (rather than a skip)
collect_ignore = [] if importlib.util.find_spec("vllm") is not None else ["test_vllm.py"]

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


@pytest.fixture(scope="session")
def vllm_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """vLLM's OpenAI-compatible server (from the vllm-cpu venv) on 127.0.0.1: a small Llama as
    ``base`` and its LoRA adapter as ``adapted``, float32, eager. Skips without a complete venv
    (``bash tests/engines/vllm_cpu.sh --setup``); fails with the server's log tail when it does not
    come up in 180 s. ``stop()``/``start()`` simulate an outage (same port); it is stopped, with its
    whole process group, at session end."""
    from tests._builders.models import build_llama_pair
    from tests.engines.vllm_server import skip_reason, venv_python

    python = venv_python()
    if python is None:
        pytest.skip(skip_reason())
    tokenizer_dir = request.getfixturevalue("lm_pair")[0]  # built only when the server can run
    root = tmp_path_factory.mktemp("vllm_server")
    model_dir, adapter_dir = build_llama_pair(tokenizer_dir, root, max_positions=1024)  # few-shot ChemProt fits
    yield from _serving(VLLMServer(python, model_dir, adapter_dir, root / "server.log"))


@pytest.fixture(scope="session")
def vllm_batch_server(vllm_server: VLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """The same Llama served without LoRA, as ``base`` and its alias ``base-copy``: vLLM then
    batches requests (a LoRA server runs one sequence per step, see VLLMServer.command), which the
    fault and outage tests need to finish in seconds. Stopped at session end."""
    yield from _serving(VLLMServer(vllm_server.python, vllm_server.model_dir, None,
                                   tmp_path_factory.mktemp("vllm_batch_server") / "server.log", adapted_name="base-copy"))


def _serving(server: VLLMServer) -> Iterator[VLLMServer]:
    """Start ``server`` (a failure to come up fails the test with the log's tail), yield it, stop it."""
    try:
        try:
            server.start()
        except RuntimeError as err:
            pytest.fail(str(err), pytrace=False)
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny models run fastest on one thread; the shared CI box has two busy cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
