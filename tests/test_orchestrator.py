"""The contract every kind of comparison keeps, run over each kind (prompted registry tasks,
intrinsic perplexity, lm-eval tasks, the probe regime) through the one orchestrator:

1. all data is read and checked before any weights load (a broken data file fails with no load);
2. a model compared with itself is exact: Δ = 0, p = 1, CI [0, 0], verdict tie;
3. a re-run reads every record from the store and loads no weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dabench
from dabench.errors import DabenchError
from tests.regimes import TASKS_DIR

KINDS: dict[str, dict[str, Any]] = {
    "prompt": {"pair": "lm_pair", "tasks": ["sst2"], "broken": ("sst2", "validation")},
    "intrinsic": {"pair": "lm_pair", "tasks": ["sst2_text_ppl"], "broken": ("sst2_text_ppl", "validation")},
    "lm-eval": {"pair": "lm_pair", "tasks": ["lmeval:dab_sst2"], "broken": None},
    "probe": {"pair": "bert_pair", "tasks": ["chemprot_inhibitor"], "regime": "probe",
              "broken": ("chemprot_inhibitor", "test")},
}


def _run(kind: str, request: pytest.FixtureRequest, shared_data: Path, store: Path, same: bool = False,
         **extra: Any) -> dabench.Comparison:
    spec = KINDS[kind]
    base, adapted = request.getfixturevalue(spec["pair"])
    options: dict[str, Any] = dict(data_dir=shared_data, limit=10, resamples=200, store_path=store, progress=False,
                                   tasks_dirs=[TASKS_DIR])
    if kind == "lm-eval":
        options["lmeval_include_path"] = [request.getfixturevalue("lmeval_tasks")]
    if "regime" in spec:
        options["regime"] = spec["regime"]
        options["preset"] = "small-cpu"
        options["max_length"] = 48
    options.update(extra)
    return dabench.compare(str(base), str(base if same else adapted), spec["tasks"], **options)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_model_against_itself_is_exact_and_a_rerun_loads_nothing(kind, request, shared_data, tmp_path, loads):
    store = tmp_path / "s.sqlite"
    first = _run(kind, request, shared_data, store, same=True)
    assert loads, "the first run loads the model"
    for t in first.tasks:
        assert (t.delta, t.p_value, tuple(t.ci), t.verdict) == (0.0, 1.0, (0.0, 0.0), "tie"), (kind, t.task)
    loads.clear()
    again = _run(kind, request, shared_data, store, same=True)
    assert loads == [], f"{kind}: the re-run loaded weights although every record is stored"
    assert [t.delta for t in again.tasks] == [t.delta for t in first.tasks]


@pytest.mark.parametrize("kind", sorted(k for k, v in KINDS.items() if v["broken"]))
def test_data_is_checked_before_any_model_loads(kind, request, shared_data, tmp_path, loads):
    task, split = KINDS[kind]["broken"]
    bad = tmp_path / "broken.txt"
    bad.write_text("\x00not a valid row\n", encoding="utf-8")
    with pytest.raises(DabenchError):
        _run(kind, request, shared_data, tmp_path / "s.sqlite", data_files={task: {split: str(bad)}})
    assert loads == [], f"{kind}: weights loaded before its data was checked"
