"""The static leaderboard site: pages, overview numbers, links, escaping, reproducible builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dabench.leaderboard import add_records, build_site
from dabench.leaderboard.definition import DEFINITION_FILE
from tests.fake_comparison import fake_comparison, fake_task, three_task_comparison
from tests.render.html_audit import assert_safe, audit

PAYLOAD = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"


def _lb(tmp_path: Path) -> Path:
    """Two pairs: the usual three-task one, and a pair with an evil name and model output."""
    lb = tmp_path / "leaderboards"
    good = three_task_comparison()
    evil = fake_comparison([
        fake_task("chemprot", delta=-0.04, ci=(-0.06, -0.02), p_value=1e-3, disagreements=[
            {"id": "e1", "input": "x", "reference": "y", "base_prediction": "z", "adapted_prediction": PAYLOAD}]),
        fake_task("rte", category="out-of-domain", delta=0.01, ci=(-0.02, 0.04), p_value=0.5),
    ], adapted_name="evil" + PAYLOAD, adapted_fp="c" * 64)
    paths = []
    for name, comp in (("good.json", good), ("evil.json", evil)):
        (tmp_path / name).write_text(json.dumps(comp), encoding="utf-8")
        paths.append(tmp_path / name)
    add_records(paths, lb)
    return lb


def test_site_pages_and_overview(tmp_path):
    lb = _lb(tmp_path)
    out = tmp_path / "site"
    pages = build_site(lb, out)
    names = sorted(str(p.relative_to(out)) for p in pages)
    assert names[:2] == ["index.html", "methods.html"]
    assert all(n.startswith("pairs/") for n in names[2:])
    pair_pages = [n for n in names if n.count("/") == 1 and n.endswith(".html")]
    flip_pages = [n for n in names if n.count("/") == 2 and "/flips-" in n]
    assert len(pair_pages) == 2 and len(flip_pages) == 3 + 2  # a flip page per task of each pair
    assert len([n for n in names if n.endswith(".json")]) == 2  # each record, for download
    index = audit((out / "index.html").read_text(encoding="utf-8"))
    assert_safe(index)
    text = " ".join(index.text.split())
    # overall: chemprot win + loss, sst2 tie, trex loss, rte tie
    assert "1 win (20.0%)" in text and "2 tie (40.0%)" in text and "2 loss (40.0%)" in text
    # columns: in-domain first, then out-of-domain, then knowledge
    heads = text.split("pair (adapted vs base)")[1]
    assert heads.index("chemprot") < min(heads.index("sst2"), heads.index("rte"))
    assert max(heads.index("sst2"), heads.index("rte")) < heads.index("trex")
    hrefs = [a["href"] for a in index.by_tag("a") if "pair-link" in a.get("class", "")]
    assert len(hrefs) == 2 and all((out / h).is_file() for h in hrefs)
    # every relative link of every page resolves to a file of the site
    for page in pages:
        if page.suffix == ".html":
            assert_safe(audit(page.read_text(encoding="utf-8")))  # flip pages hold the evil outputs too
        for a in audit(page.read_text(encoding="utf-8")).by_tag("a"):
            target = a["href"].split("#")[0]
            if target:
                assert (page.parent / target).resolve().is_file(), (page, target)


def test_pair_pages_escape_model_output(tmp_path):
    lb = _lb(tmp_path)
    out = tmp_path / "site"
    build_site(lb, out)
    (evil_page,) = [p for p in (out / "pairs").glob("*.html") if p.name.startswith("evil")]
    html = evil_page.read_text(encoding="utf-8")
    page = audit(html)
    assert_safe(page)
    assert PAYLOAD in page.text and [a for a in page.by_tag("img") if a.get("src") == "x"] == []
    assert "<script>window" not in html
    methods = audit((out / "methods.html").read_text(encoding="utf-8"))
    assert_safe(methods)
    assert "paired bootstrap" in methods.text and "Holm" in methods.text


def test_rebuild_is_identical_and_drops_stale_pages(tmp_path):
    lb = _lb(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    build_site(lb, a)
    build_site(lb, b)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    # restrict the leaderboard to one pair: the other pair's page goes away
    (lb / DEFINITION_FILE).write_text("pairs: [{adapted: gpt2-biomed}]\ntasks: [chemprot]\n", encoding="utf-8")
    pages = build_site(lb, a)
    assert len(list((a / "pairs").glob("*.html"))) == 1 and len(list((a / "pairs").glob("*/*.html"))) == 3
    assert len(list((a / "pairs").iterdir())) == 3 and len(pages) == 2 + 1 + 1 + 3  # pair page, record, its dir
    index = audit((a / "index.html").read_text(encoding="utf-8"))
    assert "trex" not in index.text and "1 win (100.0%)" in " ".join(index.text.split())


@pytest.mark.parametrize("n_pairs", [0])
def test_empty_leaderboard_builds(tmp_path, n_pairs):
    (tmp_path / "lb" / "records").mkdir(parents=True)
    pages = build_site(tmp_path / "lb", tmp_path / "site")
    assert [p.name for p in pages] == ["index.html", "methods.html"]
    assert "0 adapted/base pairs" in audit(pages[0].read_text(encoding="utf-8")).text
