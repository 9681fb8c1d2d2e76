"""The built leaderboard site in a real browser (headless Chromium from file://): a column
sorts, filters filter, a link leads to a pair page, and a model output containing
``<script>`` renders as text and runs nothing.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them)
and ``selenium`` (the test extra). Skipped, with the reason, only when Chromium is absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dabench.leaderboard import add_records, build_site
from tests.fake_comparison import fake_comparison, fake_task, three_task_comparison

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else shutil.which("chromedriver")
PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium not installed (apt-get install -y chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lb")
    evil = fake_comparison([
        fake_task("chemprot", delta=-0.04, ci=(-0.06, -0.02), p_value=1e-3, disagreements=[
            {"id": "e1", "input": "input " + PAYLOAD, "reference": "ref", "base_prediction": "CPR:3",
             "adapted_prediction": PAYLOAD}]),
        fake_task("rte", category="out-of-domain", delta=0.01, ci=(-0.02, 0.04), p_value=0.5),
    ], adapted_name="evil" + PAYLOAD, adapted_fp="c" * 64)
    paths = []
    for name, comp in (("good.json", three_task_comparison()), ("evil.json", evil)):
        (tmp / name).write_text(json.dumps(comp), encoding="utf-8")
        paths.append(tmp / name)
    add_records(paths, tmp / "leaderboards")
    build_site(tmp / "leaderboards", tmp / "site")
    return tmp / "site"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]' (it is in the test extra)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def _ready(driver) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.documentElement.getAttribute('data-tables-ready')") == "1")


def _column(driver, table_id: str, idx: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tBodies[0].rows)"
        ".filter(r => !r.hidden).map(r => r.cells[arguments[1]])"
        ".map(c => c.hasAttribute('data-value') ? c.getAttribute('data-value') : c.textContent.trim());",
        table_id, idx,
    )


def test_sort_filter_follow_link_and_nothing_runs(site, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get((site / "index.html").as_uri())
    _ready(driver)
    assert driver.title == "dabench leaderboard"

    # sort the results table by Δ: ascending, then descending, numerically
    header = driver.find_element(By.CSS_SELECTOR, "#results-table thead th:nth-child(8) button")
    before = [float(v) for v in _column(driver, "results-table", 7)]
    assert before != sorted(before)  # the click must change something
    header.click()
    asc = [float(v) for v in _column(driver, "results-table", 7)]
    assert asc == sorted(before) == [-0.052, -0.04, -0.006, 0.01, 0.081]
    header.click()
    assert [float(v) for v in _column(driver, "results-table", 7)] == sorted(before, reverse=True)
    th = driver.find_element(By.CSS_SELECTOR, "#results-table thead th:nth-child(8)")
    assert th.get_attribute("aria-sort") == "descending"

    # filter: verdict select, then free text
    Select(driver.find_element(By.CSS_SELECTOR, 'select[data-filter-table="results-table"][data-filter-col="8"]')
           ).select_by_value("loss")
    assert sorted(_column(driver, "results-table", 8)) == ["loss", "loss"]
    Select(driver.find_element(By.CSS_SELECTOR, 'select[data-filter-table="results-table"][data-filter-col="8"]')
           ).select_by_value("")
    box = driver.find_element(By.CSS_SELECTOR, 'input[data-filter-table="results-table"]')
    box.send_keys("trex")
    assert _column(driver, "results-table", 1) == ["trex"]
    assert driver.find_element(By.CSS_SELECTOR, '[data-count-for="results-table"]').text == "1 of 5 rows"

    # the overview names the evil pair as text; follow its link to the pair page
    links = driver.find_elements(By.CSS_SELECTOR, "#overview a.pair-link")
    (evil_link,) = [a for a in links if a.text.startswith("evil")]
    assert evil_link.text == "evil" + PAYLOAD
    evil_link.click()
    WebDriverWait(driver, 30).until(lambda d: "/pairs/evil" in d.current_url)
    _ready(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("evil<script>")

    # the model output is shown as text, and none of it ran
    cell = driver.find_element(By.CSS_SELECTOR, "td.adapted-prediction")
    assert cell.text == PAYLOAD
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    # the forest plot loaded from its data: URI
    assert driver.execute_script(
        "const i = document.querySelector('img.forest'); return i.complete && i.naturalWidth > 0") is True

    # and back to the overview through the navigation bar
    driver.find_element(By.ID, "nav-overview").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/index.html"))
    assert driver.execute_script("return typeof window.__pwned") == "undefined"


@pytest.fixture(scope="module")
def pairs_site(tmp_path_factory) -> Path:
    """The published MiniLM records, a sweep, and a pair whose per-example rows carry a payload."""
    from dabench.example_rows import example_lines, example_row, write_examples
    from tests.fake_comparison import fake_sweep

    tmp = tmp_path_factory.mktemp("lb-pairs")
    repo_records = Path(__file__).resolve().parents[2] / "leaderboards" / "records"
    run = tmp / "run"
    run.mkdir()
    evil = fake_comparison([
        fake_task("chemprot", n=4, delta=-0.25, ci=(-0.5, 0.0), p_value=0.3),
        fake_task("rte", category="out-of-domain", n=2, delta=0.0, ci=(-0.1, 0.1), p_value=1.0),
    ], adapted_name="evil-rows", adapted_fp="d" * 64)
    (run / "comparison.json").write_text(json.dumps(evil), encoding="utf-8")
    rows = [example_row(f"c{i}", f"input {i}", "CPR:3", "CPR:3", PAYLOAD if i == 0 else "CPR:3",
                        base_score=1.0, adapted_score=0.0 if i == 0 else 1.0) for i in range(4)]
    write_examples(example_lines({"chemprot": rows, "rte": [example_row(f"r{i}", "x", "True", "True", "True", base_score=1.0,
                                                          adapted_score=1.0) for i in range(2)]}),
                   run / "examples.jsonl")
    add_records([*sorted(repo_records.glob("*.json")), run / "comparison.json", fake_sweep(tmp / "sweep.json")],
                tmp / "leaderboards")
    build_site(tmp / "leaderboards", tmp / "site")
    return tmp / "site"


def _only_local_requests(driver) -> None:
    """Every resource the page loaded (and the page itself) came from file: or data:."""
    urls = driver.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));")
    assert urls and all(u.startswith(("file:", "data:")) for u in urls), urls


def test_gain_cost_plot_flip_page_sweep_page_and_no_network(pairs_site, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((pairs_site / "index.html").as_uri())
    _ready(driver)
    _only_local_requests(driver)
    # the plot renders: the MiniLM intrinsic pair and the evil pair (both have in-domain and
    # out-of-domain tasks) plus the sweep's three checkpoints; the fine-tune/probe pairs
    # (chemprot only) are listed as not plotted
    box = driver.execute_script("const r = document.getElementById('gain-cost').getBoundingClientRect();"
                                "return [r.width, r.height];")
    assert box[0] > 300 and box[1] > 200
    assert driver.execute_script("return document.querySelectorAll('#gain-cost circle.pair-point').length") == 2
    assert driver.execute_script("return document.querySelectorAll('#gain-cost circle.sweep-point').length") == 3
    drawn = driver.execute_script("return Array.from(document.querySelectorAll('#gain-cost circle'))"
                                  ".every(c => c.getBoundingClientRect().width > 0)")
    assert drawn is True
    assert "minilm-chemprot-mlm vs all-MiniLM-L6-v2 (fine-tune" in driver.find_element(By.ID, "left-off").text

    # a flip page opens from the table: the evil pair's chemprot cell
    row = [r for r in driver.find_elements(By.CSS_SELECTOR, "#overview tbody tr") if "evil-rows" in r.text][0]
    row.find_element(By.CSS_SELECTOR, "a.flip-link").click()
    WebDriverWait(driver, 30).until(lambda d: "/flips-chemprot-" in d.current_url)
    _ready(driver)
    _only_local_requests(driver)
    assert driver.find_element(By.ID, "base-better").text == "Base right, adapted wrong (1)"
    cell = driver.find_element(By.CSS_SELECTOR, "#base-better-table td.adapted-prediction")
    assert cell.text == PAYLOAD
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1
    driver.find_element(By.ID, "back-to-pair").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(".html") and "/flips-" not in d.current_url)
    assert "dabench compare" in driver.find_element(By.ID, "reproduce").text

    # the sweep page, from the overview's sweeps table: its trajectory plots render
    driver.get((pairs_site / "index.html").as_uri())
    _ready(driver)
    driver.find_element(By.CSS_SELECTOR, "a.sweep-link").click()
    WebDriverWait(driver, 30).until(lambda d: "/sweeps/" in d.current_url)
    _ready(driver)
    _only_local_requests(driver)
    assert driver.execute_script("return document.querySelectorAll('svg.trajectory').length") == 2
    assert "checkpoint-100<b>" in driver.find_element(By.ID, "sweep-table").text
