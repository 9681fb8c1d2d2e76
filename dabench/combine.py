"""One comparison from the parts of a run that mixes task types (the registry's prompted tasks,
intrinsic perplexity tasks, ``lmeval:`` tasks): every part compares the same two checkpoints
with its own pipeline, exactly as it would alone, and their tasks become one family for the
multiplicity correction."""

from __future__ import annotations

from typing import Any, Sequence

from dabench._version import __version__
from dabench.comparison import Comparison, created_now
from dabench.errors import PairingError, TaskError
from dabench.verdicts import reapply_verdicts


def combine_comparisons(
    parts: Sequence[tuple[str, Comparison]], *, correction: str, alpha: float, margin: float | None
) -> Comparison:
    """The tasks of ``parts`` (``(kind, comparison)`` pairs) as one comparison: p-values
    adjusted across all of them, verdicts decided again; the first part's config with the
    other parts' settings added, and ``tasks_by_regime``: which tasks ran how."""
    comparisons = [c for _, c in parts]
    first = comparisons[0]
    for part in comparisons[1:]:
        for role in ("base", "adapted"):
            if getattr(part, role).fingerprint != getattr(first, role).fingerprint:
                raise PairingError(f"the {role} checkpoint changed between the parts of this comparison "
                                   f"({getattr(first, role).fingerprint[:12]} vs {getattr(part, role).fingerprint[:12]})")
    tasks = reapply_verdicts([t for p in comparisons for t in p.tasks], correction=correction, alpha=alpha,
                             margin=margin)
    config = dict(first.config)
    for part in comparisons[1:]:
        for key, value in part.config.items():
            config.setdefault(key, value)
    config["tasks"] = [t.task for t in tasks]
    config["tasks_by_regime"] = {kind: [t.task for t in p.tasks] for kind, p in parts}
    config["regime"] = "prompt"
    signature: dict[str, Any] = dict(first.signature)
    for part in comparisons[1:]:
        for key, value in part.signature.items():
            if isinstance(value, dict) and isinstance(signature.get(key), dict):
                signature[key] = {**signature[key], **value}
            else:
                signature.setdefault(key, value)
    signature["dabench_version"] = __version__
    signature.pop("regime", None)
    return Comparison(base=first.base, adapted=first.adapted, config=config, tasks=tasks, signature=signature,
                      dabench_version=__version__,
                      created=created_now())


def compare_mixed(
    base: str,
    adapted: str,
    tasks: Sequence[str],
    *,
    intrinsic: Sequence[str],
    lmeval_tasks: Sequence[str],
    lmeval_include_path: Sequence[Any],
    shots: int,
    select_prompt: bool,
    select_limit: int | None,
    engine: str,
    correction: str,
    alpha: float,
    margin: float | None,
    progress: Any,
    **common: Any,
) -> Comparison:
    """``dabench.compare`` of tasks of several types: the registry's prompted tasks, intrinsic
    (perplexity) tasks and ``lmeval:`` tasks, each part as it would run alone, then one family.

    ``shots`` > 0 applies to lm-eval tasks too; otherwise they keep their own ``num_fewshot``.
    """
    from dabench.pipeline import _compare_regime, compare

    names = [t.strip() for t in tasks if t.strip()]
    native = [t for t in names if t not in intrinsic and t not in lmeval_tasks]
    if intrinsic and engine != "hf" and (native or lmeval_tasks):
        raise TaskError(f"intrinsic tasks ({', '.join(intrinsic)}) are scored with the hf engine; compare them "
                        f"in a run of their own, apart from the prompted tasks of engine {engine!r}")
    stats = dict(seed=common["seed"], resamples=common["resamples"], alpha=alpha, margin=margin, correction=correction)
    parts: list[tuple[str, Comparison]] = []
    if native:
        parts.append(("prompt", compare(base, adapted, native, shots=shots, select_prompt=select_prompt,
                                        select_limit=select_limit, engine=engine, correction=correction, alpha=alpha,
                                        margin=margin, progress=progress, **common)))
    if lmeval_tasks:
        parts.append(("lm-eval", _lmeval_part(base, adapted, lmeval_tasks, lmeval_include_path, shots, engine, progress,
                                              common, stats)))
    if intrinsic:
        parts.append(("intrinsic", _compare_regime(base, adapted, intrinsic, "intrinsic", {}, shots=0,
                                                   select_prompt=False, engine="hf", correction=correction, alpha=alpha,
                                                   margin=margin, progress=progress, **common)))
    if len(parts) == 1:
        return parts[0][1]
    return combine_comparisons(parts, correction=correction, alpha=alpha, margin=margin)


def _lmeval_part(base: str, adapted: str, tasks: Sequence[str], include_path: Sequence[Any], shots: int, engine: str,
                 progress: Any, common: dict[str, Any], stats: dict[str, Any]) -> Comparison:
    from dabench.lmeval import compare_lmeval_tasks
    from dabench.progress import progress_context

    with progress_context(progress) as prog:
        part = compare_lmeval_tasks(base, adapted, list(tasks), include_path=list(include_path), limit=common["limit"],
                                    shots=shots or None, store_path=common["store_path"], engine=engine,
                                    engine_options=common["engine_options"], progress=prog, **stats)
    part.config["lmeval_include_path"] = part.config.pop("include_path", [])  # the name `compare` takes it by
    return part
