"""One orchestrator for the kinds of comparison that score checkpoints as they are.

A *kind* (prompted registry tasks, intrinsic perplexity, ``lmeval:`` tasks) plans its tasks —
reading and validating all their data before any model loads — into a :class:`KindPlan`, which
then runs one side at a time on a :class:`~dabench.handles.ModelHandle` through the store and
finally tests its paired records. :func:`run_plans` drives any set of plans **side by side**:
per side it opens one handle, runs every plan on it and releases it, so a run that mixes kinds
loads each checkpoint once per side; then one multiplicity correction over every task and one
:class:`~dabench.comparison.Comparison`.

(The fine-tune and probe regimes, which train backbones, still run through
:func:`dabench.regimes.compare_regime`.)
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, ModelInfo, TaskResult, created_now
from dabench.handles import ModelHandle
from dabench.progress import Progress, progress_context
from dabench.store import Store
from dabench.verdicts import apply_verdicts


class KindPlan(Protocol):
    """A kind's planned tasks, with every input read and checked; holds its records as it runs."""

    #: the kind's name in ``config.tasks_by_regime`` (``prompt``, ``lm-eval``, ``intrinsic``)
    kind: str

    def run(self, role: str, handle: ModelHandle, store: Store, progress: Progress) -> None:
        """Evaluate one side (``base`` or ``adapted``) on ``handle`` through ``store``."""

    def test(self) -> list[tuple[TaskResult, Any]]:
        """Each task's result (before multiplicity correction) and its paired test result."""

    def config(self, results: Sequence[TaskResult]) -> dict[str, Any]:
        """This kind's part of ``Comparison.config``."""

    def signature(self, results: Sequence[TaskResult], infos: dict[str, ModelInfo]) -> dict[str, Any]:
        """This kind's part of ``Comparison.signature``."""


def stats_settings(plan: Any, *, with_margin: bool = True) -> dict[str, Any]:
    """The statistics settings every kind records, in config (with the margin) and signature
    (without it: a margin changes decisions, not the numbers): one place for their names."""
    out = {"seed": plan.seed, "resamples": plan.resamples, "alpha": plan.alpha, "margin": plan.margin,
           "correction": plan.correction}
    if not with_margin:
        del out["margin"]
    return out


def run_plans(
    handles: tuple[ModelHandle, ModelHandle],
    plans: Sequence[KindPlan],
    *,
    store_path: Any,
    progress: bool | Progress,
    correction: str,
    alpha: float,
    margin: float | None,
) -> Comparison:
    """Run ``plans`` side by side on the two handles, test, correct, and build the Comparison."""
    with progress_context(progress) as prog:
        store = Store(store_path)
        try:
            for role, handle in zip(("base", "adapted"), handles):
                try:
                    for plan in plans:
                        plan.run(role, handle, store, prog)
                finally:
                    handle.release()
        finally:
            store.close()
    tested = [(plan, t) for plan in plans for t in plan.test()]
    results = apply_verdicts([t for _, t in tested], correction=correction, alpha=alpha, margin=margin)
    by_plan = [[r for (p, _), r in zip(tested, results) if p is plan] for plan in plans]
    infos = {"base": handles[0].info(), "adapted": handles[1].info()}
    parts = [(plan, plan.config(rs), plan.signature(rs, infos)) for plan, rs in zip(plans, by_plan)]
    config, signature = _merged(parts, results)
    return Comparison(base=infos["base"], adapted=infos["adapted"], config=config, tasks=results,
                      signature={"dabench_version": __version__, **signature}, dabench_version=__version__,
                      created=created_now())


def _merged(parts: Sequence[tuple[KindPlan, dict[str, Any], dict[str, Any]]], results: Sequence[TaskResult]
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """One kind: its own config and signature. Several: the first kind's, with the others'
    settings added, ``tasks`` in result order and ``tasks_by_regime`` saying which task ran how."""
    first, config, signature = parts[0]
    if len(parts) == 1:
        return config, signature
    config = dict(config)
    signature = dict(signature)
    for _, cfg, sig in parts[1:]:
        for key, value in cfg.items():
            config.setdefault(key, value)
        for key, value in sig.items():
            if isinstance(value, dict) and isinstance(signature.get(key), dict):
                signature[key] = {**signature[key], **value}
            else:
                signature.setdefault(key, value)
    config["tasks"] = [r.task for r in results]
    config["tasks_by_regime"] = {plan.kind: list(cfg["tasks"]) for plan, cfg, _ in parts}
    config["regime"] = "prompt"
    signature.pop("regime", None)
    return config, signature
