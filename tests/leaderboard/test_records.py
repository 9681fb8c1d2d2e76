"""Leaderboard records and definition: ids, idempotent add, validation, YAML definition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dabench.errors import DabenchError
from dabench.leaderboard import add_records, load_definition, load_records, record_id
from dabench.leaderboard.definition import DEFINITION_FILE
from tests.fake_comparison import three_task_comparison


def _write(path: Path, comp: dict) -> Path:
    path.write_text(json.dumps(comp), encoding="utf-8")
    return path


def test_record_id_names_the_pair_and_hashes_what_makes_it_distinct():
    a = three_task_comparison(adapted_name="BioMed RoBERTa/v2", base_name="roberta-base")
    rid = record_id(a)
    assert rid.startswith("biomed-roberta-v2--vs--roberta-base-") and len(rid.rsplit("-", 1)[1]) == 8
    b = three_task_comparison(adapted_name="BioMed RoBERTa/v2", base_name="roberta-base", created="2030-01-01T00:00:00")
    assert record_id(b) == rid  # a re-run of the same pair and settings
    c = three_task_comparison(adapted_name="BioMed RoBERTa/v2", base_name="roberta-base", adapted_fp="c" * 64)
    assert record_id(c) != rid  # another checkpoint under the same name
    d = three_task_comparison(adapted_name="BioMed RoBERTa/v2", base_name="roberta-base", seed=1)
    assert record_id(d) != rid
    assert record_id(three_task_comparison(adapted_name="../../etc", base_name="<x>")).startswith("etc--vs--x-")


def test_add_is_idempotent_and_updates(tmp_path):
    lb = tmp_path / "lb"
    first = _write(tmp_path / "a.json", three_task_comparison())
    (added,) = add_records([first], lb)
    assert added.status == "added" and added.path == lb / "records" / f"{added.id}.json"
    assert (lb / DEFINITION_FILE).is_file()
    assert json.loads(added.path.read_text(encoding="utf-8")) == json.loads(first.read_text(encoding="utf-8"))
    assert add_records([first], lb)[0].status == "unchanged"
    rerun = _write(tmp_path / "b.json", three_task_comparison(created="2031-01-01T00:00:00+00:00"))
    (upd,) = add_records([rerun], lb)
    assert upd.status == "updated" and upd.id == added.id
    assert [rid for rid, _ in load_records(lb)] == [added.id]


def test_add_validates_everything_before_writing(tmp_path):
    good = _write(tmp_path / "good.json", three_task_comparison())
    bad_comp = three_task_comparison()
    del bad_comp["tasks"][1]["ci"]
    bad = _write(tmp_path / "bad.json", bad_comp)
    with pytest.raises(DabenchError, match=r"bad\.json: task 'sst2': field 'ci'"):
        add_records([good, bad], tmp_path / "lb")
    assert not (tmp_path / "lb" / "records").exists()


def test_load_records_refuses_odd_file_names_and_bad_json(tmp_path):
    lb = tmp_path / "lb"
    add_records([_write(tmp_path / "a.json", three_task_comparison())], lb)
    (lb / "records" / "Bad Name.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DabenchError, match="slugs"):
        load_records(lb)
    (lb / "records" / "Bad Name.json").unlink()
    (lb / "records" / "zz.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(DabenchError, match=r"zz\.json: not valid JSON"):
        load_records(lb)
    with pytest.raises(DabenchError, match="no records/ folder"):
        load_records(tmp_path / "empty")


def test_definition(tmp_path):
    assert load_definition(tmp_path).title == "dabench leaderboard"
    (tmp_path / DEFINITION_FILE).write_text(
        "title: Biomed\npairs:\n  - {adapted: gpt2-biomed}\n  - {base: aaaaaaa}\ntasks: [trex, chemprot]\n",
        encoding="utf-8")
    d = load_definition(tmp_path)
    assert d.title == "Biomed" and d.task_columns(["chemprot", "sst2"]) == ["trex", "chemprot"]
    assert d.selects(three_task_comparison())
    assert not d.selects(three_task_comparison(adapted_name="other"))
    assert d.selects(three_task_comparison(adapted_name="other", base_fp="aaaaaaaf"))  # fingerprint prefix
    (tmp_path / DEFINITION_FILE).write_text("title: x\ncolour: red\n", encoding="utf-8")
    with pytest.raises(DabenchError, match="field colour"):
        load_definition(tmp_path)
    (tmp_path / DEFINITION_FILE).write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(DabenchError, match="invalid YAML"):
        load_definition(tmp_path)
    (tmp_path / DEFINITION_FILE).write_text("!!python/object:os.system {}\n", encoding="utf-8")
    with pytest.raises(DabenchError, match="invalid YAML"):
        load_definition(tmp_path)


def test_definition_suites_expand_through_the_registry(tmp_path):
    (tmp_path / DEFINITION_FILE).write_text("suites: [glue]\ntasks: [chemprot]\n", encoding="utf-8")
    cols = load_definition(tmp_path).task_columns([])
    assert cols[0] == "chemprot" and {"sst2", "rte"} <= set(cols[1:])


def test_published_records_load_as_comparisons_and_re_add_unchanged(tmp_path):
    """The records under ``leaderboards/`` (written by older versions) load through the one
    validating loader, render the same from the object as from the file, and re-adding them is a no-op."""
    import shutil

    from dabench.comparison import Comparison
    from dabench.render.html import render_html
    from dabench.render.markdown import render_markdown

    published = Path(__file__).resolve().parents[2] / "leaderboards"
    paths = sorted((published / "records").glob("*.json"))
    if not paths:
        pytest.skip("this checkout publishes no leaderboard records")
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        comp = Comparison.load(path)
        assert render_markdown(comp) == render_markdown(data) and render_html(comp) == render_html(data)
    shutil.copytree(published, tmp_path / "lb")
    added = add_records(paths, tmp_path / "lb")
    assert [a.status for a in added] == ["unchanged"] * len(paths)
    assert [a.id for a in added] == [p.stem for p in paths]
