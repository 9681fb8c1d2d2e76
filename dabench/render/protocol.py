"""The protocol line of a report: one sentence saying how a comparison's statistics were done.

It joins the regime's part (:mod:`dabench.render.regime_fmt`) with the resampling, test,
interval, correction and options; it sits above both, so :mod:`dabench.render.fmt` stays a leaf.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dabench.render import fmt
from dabench.render.regime_fmt import protocol_parts, regime_of, seeds_test


def protocol(data: Mapping[str, Any]) -> str:
    """One line saying how the statistics were done."""
    cfg = data.get("config", {})
    corr = fmt.CORRECTION_NAMES.get(cfg.get("correction", "holm"), str(cfg.get("correction")))
    regime = regime_of(data)
    prompting = regime == "prompt"
    test, ci_kind, p_kind = seeds_test(data) if regime == "finetune" else (
        "paired bootstrap", "percentile", "paired permutation")
    parts = protocol_parts(data) + [
        f"{test} (B = {cfg.get('resamples', '?')}), {fmt.pct(fmt.ci_level(data))}% {ci_kind} CI",
        f"{p_kind} p-values, {corr}-adjusted across {len(data['tasks'])} tasks",
        f"α = {cfg.get('alpha', 0.05)}",
    ]
    if prompting:
        parts.append(f"{cfg.get('shots', 0)}-shot")
        sources = sorted(set((cfg.get("shot_source") or {}).values()))
        if sources:  # where the shots came from (never from the examples being evaluated)
            parts.append(f"shots from the {'/'.join(sources)} split{'s' if len(sources) > 1 else ''}")
    parts.append(f"{'resampling ' if not prompting else ''}seed {cfg.get('seed', 0)}")
    if cfg.get("margin"):
        parts.append(f"margin {cfg['margin']}")
    if cfg.get("limit"):
        parts.append(f"first {cfg['limit']} {'documents' if regime == 'intrinsic' else 'examples'} per task")
    if cfg.get("select_prompt"):
        parts.append("prompt chosen per model on a validation split")
    if cfg.get("domain"):
        parts.append(f"domain {cfg['domain']}")
    return "; ".join(parts)
