"""The leaderboard of pairs: published per-example rows and flip pages, sweeps and their pages,
the gain/cost plot's numbers, provenance and the reproduce command."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import typer.main

from dabench.errors import DabenchError
from dabench.example_rows import example_lines, example_row, flips, write_examples
from dabench.leaderboard import add_records, build_site
from dabench.leaderboard.gain_cost import point_of
from dabench.leaderboard.provenance import provenance, reproduce_command
from tests.fake_comparison import fake_comparison, fake_sweep, fake_task, three_task_comparison
from tests.render.html_audit import assert_safe, audit

PAYLOAD = "<script>window.__pwned = 1</script>"


def _rows(n: int, base_right: set[int], adapted_right: set[int]) -> list[dict]:
    return [example_row(f"ex{i}", f"input {i}", "yes", "yes" if i in base_right else PAYLOAD,
                        "yes" if i in adapted_right else "no", base_score=float(i in base_right),
                        adapted_score=float(i in adapted_right), prompt=f"Q: input {i}\nA:") for i in range(n)]


def _comparison_dir(tmp_path: Path) -> Path:
    """A comparison folder as `dabench compare` leaves it: comparison.json and examples.jsonl."""
    data = fake_comparison([
        fake_task("chemprot", n=10, base=0.5, delta=0.2, ci=(0.0, 0.4), p_value=0.2),
        fake_task("sst2", category="out-of-domain", n=4, base=0.8, delta=-0.1, ci=(-0.3, 0.1), p_value=0.6),
    ])
    out = tmp_path / "run"
    out.mkdir()
    (out / "comparison.json").write_text(json.dumps(data), encoding="utf-8")
    write_examples(example_lines({"chemprot": _rows(10, {0, 1, 2, 3, 4}, {0, 1, 2, 5, 6, 7, 8}),
                    "sst2": _rows(4, {0, 1, 2}, {0, 1})}), out / "examples.jsonl")
    return out


def test_flips_split_rows_by_which_model_the_metric_preferred():
    base_better, adapted_better = flips(_rows(10, {0, 1, 2, 3, 4}, {0, 1, 2, 5, 6, 7, 8}))
    assert [r["id"] for r in base_better] == ["ex3", "ex4"]
    assert [r["id"] for r in adapted_better] == ["ex5", "ex6", "ex7", "ex8"]


def test_examples_are_published_and_every_flip_gets_a_page(tmp_path):
    run = _comparison_dir(tmp_path)
    (added,) = add_records([run / "comparison.json"], tmp_path / "lb")
    published = added.path.with_name(added.id + ".examples.jsonl")
    assert published.read_bytes() == (run / "examples.jsonl").read_bytes()
    assert add_records([run / "comparison.json"], tmp_path / "lb")[0].status == "unchanged"
    site = tmp_path / "site"
    build_site(tmp_path / "lb", site)
    (flip_page,) = (site / "pairs" / added.id).glob("flips-chemprot-*.html")
    page = audit(flip_page.read_text(encoding="utf-8"))
    assert_safe(page)
    assert "Base right, adapted wrong (2)" in page.text and "Adapted right, base wrong (4)" in page.text
    assert "all 10 examples" in page.text and "Q: input 3" in page.text
    assert PAYLOAD in page.text  # the base's output, shown as text
    assert (site / "pairs" / f"{added.id}.examples.jsonl").read_bytes() == published.read_bytes()
    pair = audit((site / "pairs" / f"{added.id}.html").read_text(encoding="utf-8"))
    downloads = [a["href"] for a in pair.by_tag("a") if "download" in a]
    assert downloads == [f"{added.id}.json", f"{added.id}.examples.jsonl"]
    # the overview's Δ cells open the flip pages
    index = audit((site / "index.html").read_text(encoding="utf-8"))
    cell_links = [a["href"] for a in index.by_tag("a") if "flip-link" in a.get("class", "")]
    assert f"pairs/{added.id}/{flip_page.name}" in cell_links


def test_examples_of_another_comparison_are_refused(tmp_path):
    run = _comparison_dir(tmp_path)
    write_examples(example_lines({"chemprot": _rows(3, set(), set())}), run / "examples.jsonl")
    with pytest.raises(DabenchError, match="does not belong to"):
        add_records([run / "comparison.json"], tmp_path / "lb")
    assert not (tmp_path / "lb").exists()


def test_without_examples_the_flip_page_uses_the_kept_disagreements(tmp_path):
    src = tmp_path / "c.json"
    src.write_text(json.dumps(three_task_comparison()), encoding="utf-8")
    (added,) = add_records([src], tmp_path / "lb")
    build_site(tmp_path / "lb", tmp_path / "site")
    (page,) = (tmp_path / "site" / "pairs" / added.id).glob("flips-sst2-*.html")
    text = audit(page.read_text(encoding="utf-8")).text
    # the fake's one disagreement: reference positive, base negative, adapted positive
    assert "only the 1 disagreements the comparison keeps" in text
    assert "Adapted right, base wrong (1)" in text and "Base right, adapted wrong (0)" in text


def test_gain_cost_point_is_the_mean_relative_delta():
    data = three_task_comparison()
    p = point_of(data, "x", "x.html")
    # in-domain: chemprot Δ 0.081 on 0.62; cost side: sst2 (-0.006 on 0.81) and trex (-0.052 on 0.41)
    assert p.x == pytest.approx(100 * 0.081 / 0.62)
    assert p.x_lo == pytest.approx(100 * 0.062 / 0.62) and p.x_hi == pytest.approx(100 * 0.100 / 0.62)
    assert p.y == pytest.approx(100 * (-0.006 / 0.81 - 0.052 / 0.41) / 2)
    assert p.y_lo == pytest.approx(100 * (-0.021 / 0.81 - 0.081 / 0.41) / 2)
    only_domain = fake_comparison([fake_task("chemprot", delta=0.1)])
    assert point_of(only_domain, "y", "y.html") is None


def test_sweeps_are_filed_and_get_a_page_and_points(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep.json")
    (added,) = add_records([sweep], tmp_path / "lb")
    assert added.path.parent.name == "sweeps" and added.id.startswith("sweep-gpt2-base-")
    assert add_records([sweep], tmp_path / "lb")[0].status == "unchanged"
    site = tmp_path / "site"
    build_site(tmp_path / "lb", site)
    page = audit((site / "sweeps" / f"{added.id}.html").read_text(encoding="utf-8"))
    assert_safe(page)
    assert len(page.by_tag("svg")) == 2  # a trajectory panel per category
    assert "checkpoint-200<b>" in page.text and "sst2" in page.text
    assert "dabench sweep" in page.text and "/ckpt/checkpoint-300" in page.text
    downloads = [a["href"] for a in page.by_tag("a") if "download" in a]
    assert downloads == [f"{added.id}.json"] and (site / "sweeps" / f"{added.id}.json").is_file()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count('class="sweep-point"') == 3 * 2  # each checkpoint: its link and its circle
    assert f'href="sweeps/{added.id}.html" class="sweep-link"' in index
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(sweep.read_text()), "checkpoints": []}), encoding="utf-8")
    with pytest.raises(DabenchError, match="checkpoints"):
        add_records([bad], tmp_path / "lb")


def test_provenance_and_a_reproduce_command_the_cli_accepts():
    data = three_task_comparison()
    data["config"].update({"limit": 50, "data_dir": "/data dir", "options": {"shots": 3, "allow_pickle": True,
                                                                             "data_file": ["sst2:test=/x.jsonl"]}})
    command = reproduce_command(data)
    argv = shlex.split(command)
    assert argv[:5] == ["dabench", "compare", data["base"]["path"], data["adapted"]["path"], "--tasks"]
    assert "'/data dir'" in command and argv[argv.index("--shots") + 1] == "3" and "--allow-pickle" in argv
    from dabench.cli import main  # noqa: F401  (registers every command)
    from dabench.cli.root import app

    compare = typer.main.get_command(app).commands["compare"]  # type: ignore[attr-defined]
    ctx = compare.make_context("compare", argv[2:])  # parses every flag, runs nothing
    assert ctx.params["limit"] == 50 and ctx.params["shots"] == 3 and ctx.params["allow_pickle"] is True
    lines = dict(provenance(data))
    assert lines["base fingerprint"] == data["base"]["fingerprint"] and lines["engine"] == "hf"
    assert "chemprot: base plain, adapted plain" in lines["prompt format"]
