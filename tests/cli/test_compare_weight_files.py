"""``dabench compare base.ckpt adapted.ckpt --arch MODEL_DIR`` (the issue's headline command):
PyTorch Lightning checkpoints (``state_dict`` with a ``model.`` prefix) and plain state dicts
give exactly the numbers of the same comparison of the two model directories, and ``dabench
gate`` takes the same checkpoint options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dabench.cli import main


@pytest.fixture(scope="module")
def weight_pairs(lm_pair, tmp_path_factory) -> dict[str, Path]:
    from tests._builders.checkpoints import arch_dir, save_lightning, state_dict

    base, adapted = lm_pair
    root = tmp_path_factory.mktemp("ckpt-pairs")
    out: dict[str, Path] = {"arch": arch_dir(adapted, root / "arch")}
    for role, model_dir in (("base", base), ("adapted", adapted)):
        state = state_dict(model_dir)
        out[f"{role}_lightning"] = save_lightning(state, root / f"{role}-epoch=3-step=120.ckpt")
        out[f"{role}_plain"] = root / f"{role}.pt"
        torch.save(state, out[f"{role}_plain"])
    return out


def _compare(args: list[str], out: Path, shared_data: Path, store: Path) -> dict:
    rc = main(["compare", *args, "--tasks", "chemprot,sst2", "--data-dir", str(shared_data), "--limit", "12",
               "--resamples", "400", "--store", str(store), "--no-progress", "--out", str(out)])
    assert rc == 0
    return json.loads((out / "comparison.json").read_text())


def _numbers(data: dict) -> list[tuple]:
    return [(t["task"], t["base"], t["adapted"], t["delta"], tuple(t["ci"]), t["p_value"], t["p_adjusted"])
            for t in data["tasks"]]


def test_weight_files_with_arch_give_the_numbers_of_the_model_dirs(lm_pair, weight_pairs, shared_data, tmp_path):
    base, adapted = lm_pair
    dirs = _compare([str(base), str(adapted)], tmp_path / "dirs", shared_data, tmp_path / "a.sqlite")
    arch = str(weight_pairs["arch"])
    lightning = _compare([str(weight_pairs["base_lightning"]), str(weight_pairs["adapted_lightning"]), "--arch", arch],
                         tmp_path / "lightning", shared_data, tmp_path / "b.sqlite")
    plain = _compare([str(weight_pairs["base_plain"]), str(weight_pairs["adapted_plain"]), "--arch", arch,
                      "--ckpt-prefix", ""], tmp_path / "plain", shared_data, tmp_path / "c.sqlite")
    assert _numbers(lightning) == _numbers(dirs)
    assert _numbers(plain) == _numbers(dirs)
    assert lightning["config"]["options"]["arch"] == arch  # recorded, so the gate can replay it


def test_gate_takes_the_checkpoint_options(weight_pairs, shared_data, tmp_path):
    arch = str(weight_pairs["arch"])
    junit = tmp_path / "gate.xml"
    rc = main(["gate", str(weight_pairs["base_lightning"]), str(weight_pairs["base_plain"]), "--arch", arch,
               "--tasks", "sst2", "--data-dir", str(shared_data), "--limit", "12", "--resamples", "400",
               "--store", str(tmp_path / "s.sqlite"), "--junit", str(junit), "--device", "cpu", "--dtype", "float32"])
    assert rc == 0  # the same weights as a Lightning checkpoint and as a plain state dict: Δ = 0
    assert "sst2" in junit.read_text()
