"""Gate policies: which tasks matter how much, and what each must show (``dabench gate --policy``).

A policy (YAML, read with ``safe_load``; format and example in docs/ci.md) puts tasks or suites in
the tiers critical, supporting and advisory, each rule with its own mode and margin M: absolute,
in the headline metric's units, or relative to the baseline's score (``2%``); ``family`` says
whether Holm runs within each tier (default) or over ``all``, ``alpha`` overrides the comparison's.

``regression`` fails a significant drop beyond M, ``must-improve`` passes a significant gain beyond
M (both Holm-adjusted within the family), ``non-inferiority`` passes when the CI's lower bound of
Δ is above −M. A task that neither passes nor fails clearly is **inconclusive** when its minimum
detectable effect exceeds M (for M = 0: the comparison's underpowered flag); otherwise the mode's
other outcome holds. An undefined result fails closed.

The run: **NO-GO** (exit 1) when a critical or supporting task fails; else **INCONCLUSIVE**
(exit 3) when a critical task is inconclusive; else **GO** (exit 0). Advisory tasks never
decide. A malformed policy is one line and exit 2.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dabench.comparison import as_dict
from dabench.errors import DabenchError
from dabench.gate import _common, _finite, _z, holm, null_pvalue
from dabench.render import fmt

TIERS = ("critical", "supporting", "advisory")
MODES = ("regression", "non-inferiority", "must-improve")
FAMILIES = ("tier", "all")
OUTCOMES = {"GO": 0, "NO-GO": 1, "INCONCLUSIVE": 3}
_RELATIVE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")


@dataclass(frozen=True)
class Rule:
    """Some tasks of a tier and what they must show."""

    tier: str
    tasks: tuple[str, ...]
    mode: str
    #: absolute margin, or a fraction of the baseline's score when ``relative``
    margin: float
    relative: bool = False

    def margin_text(self) -> str:
        return f"{self.margin * 100:g}% of baseline" if self.relative else f"{self.margin:g}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy file."""

    path: str
    rules: tuple[Rule, ...]
    family: str = "tier"
    alpha: float | None = None

    def names(self) -> list[str]:
        """Every task or suite name the policy gates, in order."""
        return [n for r in self.rules for n in r.tasks]


def _fail(path: str, what: str) -> DabenchError:
    return DabenchError(f"--policy {path}: {what}")


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy file (one clear error per problem, naming the field)."""
    import yaml

    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(where, "no such file; write a policy (docs/ci.md) or drop --policy") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(where, f"cannot read it ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(where, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise _fail(where, "expected a mapping with `tiers:` (and optionally `family:`, `alpha:`)")
    unknown = sorted(set(data) - {"tiers", "family", "alpha"})
    if unknown:
        raise _fail(where, f"unknown key {unknown[0]!r}; a policy has tiers, family and alpha")
    family = data.get("family", "tier")
    if family not in FAMILIES:
        raise _fail(where, f"family must be one of {', '.join(FAMILIES)}, not {family!r}")
    alpha = data.get("alpha")
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5):
        raise _fail(where, f"alpha must be a number in (0, 0.5), not {alpha!r}")
    tiers = data.get("tiers")
    if not isinstance(tiers, dict) or not tiers:
        raise _fail(where, f"`tiers:` must map tiers ({', '.join(TIERS)}) to rules")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for tier, entries in tiers.items():
        if tier not in TIERS:
            raise _fail(where, f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
        for k, entry in enumerate(entries if isinstance(entries, list) else [entries]):
            rule = _rule(where, f"tiers.{tier}[{k}]", tier, entry)
            for name in rule.tasks:
                if name in seen:
                    raise _fail(where, f"task {name!r} is gated twice ({seen[name]} and tiers.{tier}[{k}])")
                seen[name] = f"tiers.{tier}[{k}]"
            rules.append(rule)
    return Policy(where, tuple(rules), family, None if alpha is None else float(alpha))


def _rule(where: str, field: str, tier: str, entry: Any) -> Rule:
    if not isinstance(entry, dict):
        raise _fail(where, f"{field}: expected a mapping with tasks, mode and margin")
    unknown = sorted(set(entry) - {"tasks", "mode", "margin"})
    if unknown:
        raise _fail(where, f"{field}: unknown key {unknown[0]!r}; a rule has tasks, mode and margin")
    tasks = entry.get("tasks")
    if isinstance(tasks, str):
        tasks = [t.strip() for t in tasks.split(",") if t.strip()]
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t for t in tasks):
        raise _fail(where, f"{field}.tasks: give a list of task or suite names")
    mode = entry.get("mode", "regression")
    if mode not in MODES:
        raise _fail(where, f"{field}.mode must be one of {', '.join(MODES)}, not {mode!r}")
    margin, relative = _margin(where, f"{field}.margin", entry.get("margin", 0))
    if mode == "non-inferiority" and margin == 0:
        raise _fail(where, f"{field}: non-inferiority needs a margin > 0 (the largest drop you accept)")
    return Rule(tier, tuple(tasks), mode, margin, relative)


def _margin(where: str, field: str, value: Any) -> tuple[float, bool]:
    """``0.01`` (absolute) or ``"2%"`` (relative to the baseline's score)."""
    if isinstance(value, str):
        m = _RELATIVE.fullmatch(value)
        if not m:
            raise _fail(where, f"{field}: {value!r} is neither a number nor a percentage like 2%")
        return float(m.group(1)) / 100.0, True
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, f"{field}: expected a number or a percentage like 2%, not {value!r}")
    if value < 0:
        raise _fail(where, f"{field}: a margin is a tolerated amount, >= 0, not {value:g}")
    return float(value), False


@dataclass(frozen=True)
class PolicyTask:
    """One task's outcome under the policy, with the numbers behind it."""

    task: str
    tier: str
    mode: str
    #: the margin applied (absolute), and as the policy wrote it
    margin: float
    margin_spec: str
    outcome: str
    reason: str
    category: str
    metric: str
    n: int
    baseline: float
    candidate: float
    delta: float
    ci: tuple[float, float]
    mde: float | None
    underpowered: bool
    p_value: float | None = None
    p_holm: float | None = None
    lower_bound: float | None = None


@dataclass(frozen=True)
class PolicyResult:
    """Every gated task's outcome and the run's: GO, NO-GO or INCONCLUSIVE."""

    policy: str
    family: str
    alpha: float
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    tasks: tuple[PolicyTask, ...]

    def _deciding(self) -> tuple[list[str], list[str]]:
        """(the failing critical or supporting tasks, the inconclusive critical ones)."""
        return ([t.task for t in self.tasks if t.tier != "advisory" and t.outcome == "fail"],
                [t.task for t in self.tasks if t.tier == "critical" and t.outcome == "inconclusive"])

    @property
    def outcome(self) -> str:
        blocking, open_ = self._deciding()
        return "NO-GO" if blocking else "INCONCLUSIVE" if open_ else "GO"

    @property
    def exit_code(self) -> int:
        return OUTCOMES[self.outcome]

    def summary(self) -> str:
        counts = {o: sum(1 for t in self.tasks if t.outcome == o) for o in ("pass", "fail", "inconclusive")}
        blocking, open_ = self._deciding()
        why = (f": failing {', '.join(blocking)}" if blocking else
               f": inconclusive critical {', '.join(open_)}" if open_ else "")
        return (f"gate {self.outcome} (policy {self.policy}): {counts['pass']} pass, {counts['fail']} fail, "
                f"{counts['inconclusive']} inconclusive{why}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "dabench.gate-policy/1", "outcome": self.outcome, "exit_code": self.exit_code,
            "policy": self.policy, "family": self.family, "alpha": self.alpha, "baseline": self.baseline,
            "candidate": self.candidate, "summary": self.summary(),
            "tasks": [{**asdict(t), "ci": list(t.ci)} for t in self.tasks],
        }

    def markdown(self) -> str:
        """A Markdown summary fit for a CI job summary (every model-derived text escaped)."""
        lines = [f"## dabench gate: {self.outcome}", "",
                 f"{md_cell(self.candidate.get('name', 'candidate'))} against {md_cell(self.baseline.get('name', 'baseline'))}; "
                 f"policy `{md_cell(self.policy)}`, Holm within each {self.family if self.family == 'tier' else 'run'}, "
                 f"alpha {self.alpha:g}.", "",
                 "| tier | task | mode | margin | baseline | candidate | Δ | CI | outcome | why |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for t in self.tasks:
            lines.append(f"| {t.tier} | {md_cell(t.task)} | {t.mode} | {md_cell(t.margin_spec)} | {fmt.num(t.baseline)} | "
                         f"{fmt.num(t.candidate)} | {fmt.signed(t.delta)} | {fmt.interval(t.ci)} | "
                         f"**{t.outcome}** | {md_cell(t.reason)} |")
        return "\n".join(lines) + "\n"


def md_cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: no HTML, no cell breaks, no line breaks."""
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ")


def assign(policy: Policy, available: Sequence[str], expand: Callable[[str], list[str]]) -> list[tuple[str, Rule]]:
    """Each gated task of the comparison with its rule; suites expand through ``expand``. A
    name that matches nothing the comparison evaluated is an error naming it."""
    out: list[tuple[str, Rule]] = []
    have = set(available)
    for rule in policy.rules:
        for name in rule.tasks:
            names = [name] if name in have else [n for n in expand(name) if n in have]
            if not names:
                raise _fail(policy.path, f"tier {rule.tier}: task {name!r} is not in the comparison (it has: "
                            f"{', '.join(available) or 'none'}); gate tasks the comparison evaluated")
            for n in names:
                if n in {t for t, _ in out}:
                    raise _fail(policy.path, f"task {n!r} is gated twice (once through {name!r})")
                out.append((n, rule))
    return out


def apply_policy(comparison: Any, policy: Policy, *, alpha: float | None = None, source: str = "comparison",
                 expand: Callable[[str], list[str]] = lambda name: []) -> PolicyResult:
    """Gate a comparison (``base`` = baseline, ``adapted`` = candidate) under ``policy``."""
    data = as_dict(comparison, source)
    cfg = data.get("config", {}) or {}
    ci_alpha = float(cfg.get("alpha", 0.05) or 0.05)
    alpha = float(alpha if alpha is not None else policy.alpha if policy.alpha is not None else ci_alpha)
    by_name = {t["task"]: t for t in data["tasks"]}
    assigned = assign(policy, list(by_name), expand)
    margins = {name: rule.margin * abs(float(by_name[name]["base"])) if rule.relative else rule.margin
               for name, rule in assigned}
    raw: dict[str, float] = {}
    families: dict[str, list[str]] = {}
    for name, rule in assigned:
        if rule.mode == "non-inferiority":
            continue
        m = margins[name]
        raw[name] = null_pvalue(by_name[name], m if rule.mode == "regression" else -m, ci_alpha)
        families.setdefault(rule.tier if policy.family == "tier" else "all", []).append(name)
    adjusted: dict[str, float] = {}
    for members in families.values():
        adjusted.update(zip(members, holm([raw[n] for n in members])))
    tasks = [_decide(by_name[name], rule, margins[name], raw.get(name), adjusted.get(name), alpha, ci_alpha)
             for name, rule in assigned]
    return PolicyResult(policy.path, policy.family, alpha, dict(data["base"]), dict(data["adapted"]), tuple(tasks))


def _decide(t: Mapping[str, Any], rule: Rule, margin: float, p: float | None, p_adj: float | None, alpha: float,
            ci_alpha: float) -> PolicyTask:
    common = dict(_common(t), tier=rule.tier, mode=rule.mode, margin=margin, margin_spec=rule.margin_text(),
                  p_value=p, p_holm=p_adj)
    delta, ci, mde = common["delta"], common["ci"], common["mde"]
    if not _finite(t, "delta"):
        return PolicyTask(**common, outcome="fail",
                          reason="no finite result (the metric is undefined on these predictions); fails closed")
    underpowered = (mde is not None and mde > margin) if margin > 0 else common["underpowered"]
    weak = f"; underpowered: MDE {fmt.num(mde)} > margin {margin:g}" if margin > 0 else "; underpowered"
    effect = f"Δ = {fmt.signed(delta)}, CI {fmt.interval(ci)}"
    lower = None
    if rule.mode == "regression":
        assert p_adj is not None
        if delta < -margin and p_adj < alpha:
            outcome, reason = "fail", f"significantly worse by more than {margin:g}: {effect}, Holm p {fmt.num(p_adj)}"
        elif underpowered:
            outcome, reason = "inconclusive", f"no significant drop, but a drop of {margin:g} could go unseen: {effect}{weak}"
        else:
            outcome, reason = "pass", f"no significant drop beyond {margin:g}: {effect}"
    elif rule.mode == "must-improve":
        assert p_adj is not None
        if delta > margin and p_adj < alpha:
            outcome, reason = "pass", f"significantly better by more than {margin:g}: {effect}, Holm p {fmt.num(p_adj)}"
        elif underpowered:
            outcome, reason = "inconclusive", f"no significant gain shown, and the test could not see one: {effect}{weak}"
        else:
            outcome, reason = "fail", f"no significant gain beyond {margin:g}: {effect}, Holm p {fmt.num(p_adj)}"
    else:
        lo = ci[0]
        lower = lo if alpha == ci_alpha else delta - (delta - lo) * _z(alpha) / _z(ci_alpha)
        if lower > -margin:
            outcome, reason = "pass", f"non-inferior: lower bound {fmt.signed(lower)} > -{margin:g}"
        elif underpowered:
            outcome, reason = "inconclusive", (f"non-inferiority not shown, and too few examples to show it: lower "
                                               f"bound {fmt.signed(lower)}{weak}")
        else:
            outcome, reason = "fail", f"a drop beyond {margin:g} is not ruled out: lower bound {fmt.signed(lower)}"
    return PolicyTask(**common, outcome=outcome, reason=reason, lower_bound=lower)
