"""``dabench leaderboard add|build`` from the command line."""

from __future__ import annotations

import json

from tests.fake_comparison import three_task_comparison


def _main(args: list[str]) -> int:
    from dabench.cli import leaderboard_cmd, main  # noqa: F401  (registers the commands)

    return main(args)


def test_add_then_build(tmp_path, capsys):
    src = tmp_path / "comparison.json"
    src.write_text(json.dumps(three_task_comparison()), encoding="utf-8")
    lb, site = tmp_path / "lb", tmp_path / "site"
    assert _main(["leaderboard", "add", str(src), "--dir", str(lb)]) == 0
    assert capsys.readouterr().out.startswith("added ")
    assert _main(["leaderboard", "add", str(src), "--dir", str(lb)]) == 0
    assert capsys.readouterr().out.startswith("unchanged ")
    assert _main(["leaderboard", "build", "--dir", str(lb), "--out", str(site)]) == 0
    assert "wrote 7 files" in capsys.readouterr().out  # overview, methods, pair page, record, 3 flip pages
    assert (site / "index.html").is_file() and len(list((site / "pairs").glob("*.html"))) == 1


def test_build_adds_the_results_it_is_given(tmp_path, capsys):
    """The one command the demo prints: add the result files, then build."""
    src = tmp_path / "comparison.json"
    src.write_text(json.dumps(three_task_comparison()), encoding="utf-8")
    assert _main(["leaderboard", "build", str(src), "--dir", str(tmp_path / "lb"), "--out", str(tmp_path / "site")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added ") and "wrote 7 files" in out
    assert len(list((tmp_path / "lb" / "records").glob("*.json"))) == 1
    assert _main(["leaderboard", "build", str(tmp_path / "missing.json"), "--dir", str(tmp_path / "lb")]) == 2
    assert "missing.json: file not found" in capsys.readouterr().err


def test_bad_input_exits_2(tmp_path, capsys):
    (tmp_path / "x.json").write_text('{"schema": "dabench.run/1"}', encoding="utf-8")
    assert _main(["leaderboard", "add", str(tmp_path / "x.json"), "--dir", str(tmp_path / "lb")]) == 2
    assert "not a dabench comparison" in capsys.readouterr().err
    assert _main(["leaderboard", "build", "--dir", str(tmp_path / "none"), "--out", str(tmp_path / "s")]) == 2
    assert "no records/ folder" in capsys.readouterr().err
