"""Shard stores for batch schedulers: ``--shard I/N`` runs only shard I's work units into its
own store, ``dabench store merge`` merges the stores (idempotent; a conflicting record is an
error naming its key), and the merged store holds what one local run stores and gives the same
comparison without computing anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import dabench
from dabench.cli import main
from dabench.errors import DabenchError
from dabench.orchestrator import ShardComputed
from dabench.store import Store

TASKS = ["sst2", "sst2_text_ppl"]


def _contents(store: Path) -> set[tuple]:
    with sqlite3.connect(store) as db:
        return set(db.execute("SELECT model_fp, run_key, example_id, seed, payload FROM records"))


def _args(lm_pair, shared_data, store: Path, out: Path) -> list[str]:
    return ["compare", str(lm_pair[0]), str(lm_pair[1]), "--tasks", ",".join(TASKS), "--data-dir", str(shared_data),
            "--limit", "150", "--resamples", "200", "--store", str(store), "--out", str(out)]


def test_three_shards_merged_equal_one_local_run(lm_pair, shared_data, tmp_path, capsys):
    whole = tmp_path / "whole.sqlite"
    assert main(_args(lm_pair, shared_data, whole, tmp_path / "whole")) == 0
    shards = []
    for i in range(3):
        shards.append(tmp_path / f"shard-{i}.sqlite")
        assert main(_args(lm_pair, shared_data, shards[-1], tmp_path / f"out{i}") + ["--shard", f"{i}/3"]) == 0
        assert f"shard {i}/3:" in capsys.readouterr().err
        assert not (tmp_path / f"out{i}" / "comparison.json").exists()  # nothing to compare yet
    parts = [_contents(s) for s in shards]
    assert sum(1 for p in parts if p) >= 2 and sum(len(p) for p in parts) == len(set().union(*parts)), "each record in one shard only"
    merged = tmp_path / "merged.sqlite"
    assert main(["store", "merge", str(merged), *map(str, shards)]) == 0
    assert _contents(merged) == _contents(whole)
    assert main(["store", "merge", str(merged), *map(str, shards)]) == 0  # idempotent
    assert "0 record(s) added" in capsys.readouterr().out
    assert _contents(merged) == _contents(whole)
    # the plain compare on the merged store computes nothing and gives the same numbers
    assert main(_args(lm_pair, shared_data, merged, tmp_path / "merged")) == 0
    a, b = (json.loads((tmp_path / d / "comparison.json").read_text()) for d in ("whole", "merged"))
    assert [(t["task"], t["delta"], t["p_value"], t["ci"]) for t in a["tasks"]] == \
           [(t["task"], t["delta"], t["p_value"], t["ci"]) for t in b["tasks"]]


def test_api_shard_raises_shard_computed_until_the_store_is_complete(lm_pair, shared_data, tmp_path):
    store = tmp_path / "s.sqlite"
    kwargs = dict(data_dir=shared_data, limit=30, resamples=200, store_path=store, progress=False)
    with pytest.raises(ShardComputed, match="shard 0/2"):
        dabench.compare(str(lm_pair[0]), str(lm_pair[1]), ["sst2"], shard=(0, 2), **kwargs)
    dabench.compare(str(lm_pair[0]), str(lm_pair[1]), ["sst2"], shard=(1, 2), **kwargs)  # now complete: compares


def test_conflicting_records_are_an_error_naming_the_key(tmp_path, capsys):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    for path, value in ((a, 1), (b, 2)):
        with Store(path) as s:
            s.put_many("fp-model", "rk", [("ex-7", {"pred": value})])
    with Store(tmp_path / "out.sqlite") as out:
        out.merge(a)
        with pytest.raises(DabenchError, match="example 'ex-7'"):
            out.merge(b)
    assert main(["store", "merge", str(tmp_path / "out2.sqlite"), str(a), str(b)]) == 2
    assert "run rk, example 'ex-7'" in capsys.readouterr().err
    assert main(["store", "merge", str(tmp_path / "o.sqlite"), str(tmp_path / "missing.sqlite")]) == 2
