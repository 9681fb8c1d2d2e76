"""Gate policies: per-tier modes and margins (absolute and relative), pass / fail / inconclusive
per task, GO / NO-GO / INCONCLUSIVE per run with exit codes 0 / 1 / 3 (2: bad input), Holm within
the family the policy names (checked against statsmodels), JUnit valid against the schema, and a
Markdown summary with model text escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from statsmodels.stats.multitest import multipletests

from dabench.cli import main
from dabench.errors import DabenchError
from dabench.gate_policy import apply_policy, load_policy
from tests.fake_comparison import fake_comparison, fake_task

XSD = Path(__file__).parent / "render" / "junit.xsd"


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _comparison():
    return fake_comparison([
        fake_task("chemprot", delta=0.08, ci=(0.05, 0.11), p_value=1e-4),                     # a real gain
        fake_task("rct", delta=0.004, ci=(-0.006, 0.014), p_value=0.45, mde=0.008),          # no gain, well powered
        fake_task("sst2", category="out-of-domain", base=0.80, delta=-0.004, ci=(-0.011, 0.003), p_value=0.3,
                  mde=0.01),                                                                    # non-inferior at 2%
        fake_task("rte", category="out-of-domain", delta=-0.06, ci=(-0.09, -0.03), p_value=2e-4),  # a real drop
        fake_task("trex", category="knowledge", delta=-0.01, ci=(-0.12, 0.10), p_value=0.8, mde=0.2),  # too few
    ])


POLICY = """
family: tier
tiers:
  critical:
    - {tasks: [chemprot], mode: must-improve}
    - {tasks: [sst2], mode: non-inferiority, margin: 2%}
  supporting:
    - {tasks: [trex], mode: non-inferiority, margin: 0.05}
  advisory:
    - {tasks: [rte], mode: regression}
"""


def test_outcomes_per_tier_and_mode(tmp_path):
    res = apply_policy(_comparison(), load_policy(_policy(tmp_path, POLICY)))
    by = {t.task: t for t in res.tasks}
    assert by["chemprot"].outcome == "pass" and by["chemprot"].tier == "critical"
    # 2% of the baseline's 0.80 = 0.016: the lower bound -0.011 is above -0.016
    assert by["sst2"].margin == pytest.approx(0.016) and by["sst2"].margin_spec == "2% of baseline"
    assert by["sst2"].outcome == "pass" and by["sst2"].lower_bound == pytest.approx(-0.011)
    assert by["trex"].outcome == "inconclusive"  # MDE 0.2 > margin 0.05
    assert by["rte"].outcome == "fail"           # advisory: reported, never decides
    assert res.outcome == "GO" and res.exit_code == 0


@pytest.mark.parametrize("extra, outcome, code", [
    ("    - {tasks: [rct], mode: must-improve}\n", "NO-GO", 1),             # no gain, well powered: fails
    ("    - {tasks: [trex], mode: regression, margin: 0.05}\n", "INCONCLUSIVE", 3),  # critical, underpowered
    ("    - {tasks: [rte], mode: regression, margin: 0.01}\n", "NO-GO", 1),  # a drop beyond the margin
])
def test_run_outcome_and_exit_code(tmp_path, extra, outcome, code):
    text = "tiers:\n  critical:\n    - {tasks: [chemprot], mode: must-improve}\n" + extra
    res = apply_policy(_comparison(), load_policy(_policy(tmp_path, text)))
    assert (res.outcome, res.exit_code) == (outcome, code)


def test_a_supporting_task_inconclusive_does_not_block(tmp_path):
    text = "tiers:\n  supporting:\n    - {tasks: [trex], mode: regression, margin: 0.05}\n"
    res = apply_policy(_comparison(), load_policy(_policy(tmp_path, text)))
    assert res.tasks[0].outcome == "inconclusive" and res.outcome == "GO"


@pytest.mark.parametrize("family", ["tier", "all"])
def test_holm_within_the_named_family(tmp_path, family):
    text = (f"family: {family}\ntiers:\n  critical:\n    - {{tasks: [chemprot, rct], mode: must-improve}}\n"
            "  supporting:\n    - {tasks: [rte, trex], mode: regression}\n")
    comp = _comparison()
    res = apply_policy(comp, load_policy(_policy(tmp_path, text)))
    p = {t["task"]: t["p_value"] for t in comp["tasks"]}
    groups = [["chemprot", "rct"], ["rte", "trex"]] if family == "tier" else [["chemprot", "rct", "rte", "trex"]]
    for group in groups:
        ref = multipletests([p[n] for n in group], method="holm")[1]
        assert [t.p_holm for t in res.tasks if t.task in group] == pytest.approx(list(ref))


def test_must_improve_with_a_margin_tests_against_it(tmp_path):
    """A gain of 0.08 with CI [0.05, 0.11] is significant beyond 0.02, not beyond 0.07."""
    for margin, outcome in ((0.02, "pass"), (0.07, "fail")):
        text = f"tiers:\n  critical:\n    - {{tasks: [chemprot], mode: must-improve, margin: {margin}}}\n"
        res = apply_policy(_comparison(), load_policy(_policy(tmp_path, text)))
        assert res.tasks[0].outcome == outcome, margin


@pytest.mark.parametrize("text, message", [
    ("tiers:\n  blocking:\n    - {tasks: [sst2]}\n", "unknown tier 'blocking'"),
    ("tiers:\n  critical:\n    - {tasks: [sst2], mode: improve}\n", "tiers.critical[0].mode must be one of"),
    ("tiers:\n  critical:\n    - {tasks: [sst2], margin: -0.01}\n", "tiers.critical[0].margin: a margin is"),
    ("tiers:\n  critical:\n    - {tasks: [sst2], margin: two}\n", "neither a number nor a percentage"),
    ("tiers:\n  critical:\n    - {tasks: [sst2], mode: non-inferiority}\n", "needs a margin > 0"),
    ("tiers:\n  critical:\n    - {tasks: [sst2], tier: x}\n", "unknown key 'tier'"),
    ("tiers:\n  critical:\n    - {tasks: [sst2]}\n  advisory:\n    - {tasks: [sst2]}\n", "gated twice"),
    ("tier:\n  critical: []\n", "unknown key 'tier'"),
    ("tiers: [oops\n", "not valid YAML"),
])
def test_malformed_policy_is_one_line(tmp_path, text, message):
    with pytest.raises(DabenchError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        load_policy(_policy(tmp_path, text))
    assert "\n" not in str(err.value) and str(err.value).startswith("--policy ")


def _gate(tmp_path: Path, policy: str, *extra: str) -> int:
    comp = _comparison()
    comp["tasks"][0]["disagreements"][0]["adapted_prediction"] = "<script>alert(1)</script>"
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps(comp), encoding="utf-8")
    return main(["gate", str(path), "--policy", str(_policy(tmp_path, policy)), *extra])


def test_cli_exit_codes_junit_and_summary(tmp_path, capsys):
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    assert _gate(tmp_path, POLICY, "--junit", str(junit), "--summary", str(summary)) == 0
    root = etree.fromstring(junit.read_bytes())
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(root)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "0", "1")  # rte advisory
    assert root.find(".//testcase[@name='trex']/skipped") is not None
    md = summary.read_text(encoding="utf-8")
    assert md.startswith("## dabench gate: GO") and "| critical | chemprot | must-improve |" in md
    critical = "tiers:\n  critical:\n    - {tasks: [trex], mode: regression, margin: 0.05}\n"
    assert _gate(tmp_path, critical) == 3
    assert "gate INCONCLUSIVE" in capsys.readouterr().out
    assert _gate(tmp_path, "tiers:\n  critical:\n    - {tasks: [rte], mode: regression}\n") == 1
    assert _gate(tmp_path, "tiers:\n  critical:\n    - {tasks: [nope]}\n") == 2
    assert "'nope'" in capsys.readouterr().err
    assert _gate(tmp_path, POLICY, "--mode", "regression") == 2
    assert "come from the policy" in capsys.readouterr().err
    assert _gate(tmp_path, "tiers: 3\n") == 2


def test_task_names_in_the_summary_are_escaped(tmp_path):
    comp = fake_comparison([fake_task("a|<b>", delta=0.0, p_value=1.0)])
    text = "tiers:\n  critical:\n    - {tasks: ['a|<b>'], mode: regression}\n"
    md = apply_policy(comp, load_policy(_policy(tmp_path, text))).markdown()
    assert "a\\|&lt;b&gt;" in md and "<b>" not in md


def test_a_policy_task_the_comparison_lacks_is_an_error(tmp_path):
    with pytest.raises(DabenchError, match="tier critical: task 'nope' is not in the comparison"):
        apply_policy(_comparison(), load_policy(_policy(tmp_path, "tiers:\n  critical:\n    - {tasks: [nope]}\n")))


def test_the_policy_in_docs_ci_loads_and_names_registered_tasks(tmp_path):
    import re

    from dabench.registry import get_registry

    docs = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text(encoding="utf-8")
    policy = load_policy(_policy(tmp_path, re.search(r"```yaml\n(# gate\.yaml.*?)```", docs, re.S).group(1)))
    assert {r.tier for r in policy.rules} == {"critical", "supporting", "advisory"}
    assert {r.mode for r in policy.rules} == {"must-improve", "non-inferiority", "regression"}
    for name in policy.names():
        assert get_registry([]).resolve([name])
