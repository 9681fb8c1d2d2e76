"""``dabench stats``: paired statistics for predictions people already have.

Two JSON Lines files, one per model, each line ``{"id", "prediction", "reference"[, "cluster"]}``, are
paired on ``id`` (the id sets must match exactly: a silent inner join would hide missing predictions) and
compared with :func:`dabench.stats.paired_test` on the named metric.

A ``null`` (or blank) prediction is a missing answer: always wrong, never a class, counted per model in the
output. A correlation metric refuses it; a ``null`` reference is an error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import typer

from dabench.cli.flags import split_names
from dabench.cli.root import app
from dabench.data.predictions import read_predictions
from dabench.errors import DabenchError, DataError, PairingError
from dabench.metrics import count_missing, get_metric
from dabench.metrics.classification import MISSING
from dabench.metrics.inputs import finite_float, is_missing, refuse_missing_scores
from dabench.render.fmt import pval
from dabench.stats import decide, paired_test

_FIELDS = ("id", "prediction", "reference")


def pair_records(
    base: dict[str, dict[str, Any]], adapted: dict[str, dict[str, Any]], base_path: Path, adapted_path: Path
) -> tuple[list[str], list[Any] | None]:
    """Ids in the base file's order and the cluster keys (None without clusters); refuses
    mismatched id sets, disagreeing references and disagreeing or partial cluster keys."""
    parts = [f"{len(only)} only in {path} (e.g. {only[0]!r})"
             for path, only in ((base_path, [k for k in base if k not in adapted]),
                                (adapted_path, [k for k in adapted if k not in base])) if only]
    if parts:
        raise PairingError(f"the two files hold different ids: {'; '.join(parts)}; both must predict the same examples")
    ids = list(base)
    clusters: list[Any] = []
    for k in ids:
        rb, ra = base[k], adapted[k]
        if rb["reference"] != ra["reference"]:
            raise PairingError(f"id {k!r}: reference differs between {base_path} line {rb['_line']} "
                               f"and {adapted_path} line {ra['_line']}")
        cb, ca = rb.get("cluster"), ra.get("cluster")
        if cb is not None and ca is not None and cb != ca:
            raise PairingError(f"id {k!r}: cluster differs between {base_path} and {adapted_path}")
        clusters.append(cb if cb is not None else ca)
    has = [c is not None for c in clusters]
    if any(has) and not all(has):
        k = ids[has.index(False)]
        raise DataError(f"id {k!r} has no cluster while other records do; give every record a cluster or none")
    if not any(has):
        return ids, None
    return ids, [json.dumps(c, sort_keys=True) if isinstance(c, (list, dict)) else c for c in clusters]


def _label_key(value: Any) -> str:
    return value.strip() if isinstance(value, str) else json.dumps(value)


def infer_labels(*files: dict[str, dict[str, Any]]) -> list[str]:
    """The label set of the files: every reference and every prediction that is not missing
    (a missing prediction is never a class), sorted."""
    keys = {_label_key(r[f]) for recs in files for r in recs.values() for f in ("prediction", "reference")
            if not is_missing(r[f])}
    try:
        return sorted(keys, key=float)
    except ValueError:
        return sorted(keys)


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


LABELS_HELP = (
    "Comma-separated label set of a classification metric: fixes the classes and their order "
    "(f1 takes the second label as the positive class). Default: the union of the references and "
    "predictions of both files, sorted (numerically when every label is a number)."
)


@app.command("stats")
def stats_command(
    metric: str = typer.Option(..., "--metric", help="Metric name from the registry (accuracy, macro_f1, micro_f1, f1, mcc, pearson, spearman, em, token_f1, ...)."),
    base: Path = typer.Option(..., "--base", help="JSON Lines predictions of the base model: {\"id\", \"prediction\", \"reference\"[, \"cluster\"]} per line."),
    adapted: Path = typer.Option(..., "--adapted", help="JSON Lines predictions of the adapted model, same ids as --base."),
    labels: str | None = typer.Option(None, "--labels", help=LABELS_HELP),
    resamples: int = typer.Option(10_000, "--resamples", help="Bootstrap resamples and sampled permutations."),
    seed: int = typer.Option(0, "--seed", help="Random seed (results are reproducible for a seed)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level; the CI is at 1 - alpha."),
    margin: float | None = typer.Option(None, "--margin", help="Equivalence / non-inferiority margin in metric units (e.g. 0.01)."),
    ci_method: str = typer.Option("percentile", "--ci-method", help="percentile or bca."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Paired test of ADAPTED against BASE on predictions you already have.

    Records are paired on "id": both files must hold the same ids, with the same reference per id. With a "cluster" field the cluster is the resampling unit.

    Prints delta = adapted - base with its CI, the paired permutation p-value (plus bootstrap and, for 0/1 outcomes, McNemar), the minimum detectable effect and the verdict.
    """  # noqa: E501
    recs_b = read_predictions(base, _FIELDS)
    recs_a = read_predictions(adapted, _FIELDS)
    ids, clusters = pair_records(recs_b, recs_a, base, adapted)
    kind = getattr(get_metric(metric, ["0", "1"]), "input_kind", "label")  # read off a probe instance

    label_list: list[str] | None = None
    # a prediction or reference as the metric reads it
    convert: Callable[[Any, str], Any] = lambda value, where: finite_float(value, f"{where}: ") if kind == "score" else value
    if kind == "label":
        if labels is not None:
            label_list = split_names(labels)
            if len(set(label_list)) != len(label_list):
                raise DabenchError("--labels lists a label twice")
        else:
            label_list = infer_labels(recs_b, recs_a)
        if len(label_list) < 2:
            raise DabenchError(f"metric {metric!r} needs at least 2 labels; pass --labels")
        index = {lab: i for i, lab in enumerate(label_list)}

        known = ", ".join(label_list)

        def label_index(value: Any, where: str) -> int:
            if is_missing(value):
                return MISSING  # a prediction (references are checked in column())
            try:
                return index[_label_key(value)]
            except KeyError:
                raise DataError(f"{where}: label {value!r} is not in --labels ({known})") from None

        convert = label_index

    m = get_metric(metric, label_list or [])

    def column(recs: dict[str, dict[str, Any]], path: Path, field: str) -> list[Any]:
        where = {k: f"{path} line {recs[k]['_line']} ({field} of id {k!r})" for k in ids}
        if field == "reference":
            bad = next((k for k in ids if is_missing(recs[k][field])), None)
            if bad is not None:
                raise DataError(f"{where[bad]}: the reference is null or blank; every record needs a reference")
        elif kind == "score":
            refuse_missing_scores(m, [recs[k][field] for k in ids], ids, str(path))
        return [convert(recs[k][field], where[k]) for k in ids]

    # a label file holds label *values*: only null or blank is missing ("-1" is the label "-1", not the missing index)
    missing = {}
    for role, recs in (("base", recs_b), ("adapted", recs_a)):
        preds = [recs[k]["prediction"] for k in ids]
        missing[role] = sum(map(is_missing, preds)) if kind == "label" else count_missing(m, preds)
    try:
        ref = column(recs_b, base, "reference")
        stats_b = m.stats(column(recs_b, base, "prediction"), ref)
        stats_a = m.stats(column(recs_a, adapted, "prediction"), ref)
        res = paired_test(m, stats_b, stats_a, clusters=clusters, resamples=resamples, seed=seed,
                          alpha=alpha, margin=margin, ci_method=ci_method)
    except ValueError as exc:
        raise DabenchError(str(exc).splitlines()[0]) from None
    decision = decide(res, res.p_value, alpha=alpha, margin=margin)
    out = {**res.to_dict(), **decision}
    if label_list is not None:
        out["labels"] = label_list
    out["missing_base"], out["missing_adapted"] = missing["base"], missing["adapted"]
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    level = round(100 * (1 - alpha), 1)
    lines = [
        f"metric     {res.metric}  (n={res.n}" + (f", {res.n_units} clusters)" if res.clustered else ")"),
        f"base       {_fmt(res.base)}",
        f"adapted    {_fmt(res.adapted)}",
        f"delta      {res.delta:+.4f}  {level:g}% CI [{_fmt(res.ci[0])}, {_fmt(res.ci[1])}] ({res.ci_method})",
        f"p-value    {pval(res.p_value)}  (paired permutation, {res.permutation_method})"
        + "".join(f"; {k} {pval(v)}" for k, v in res.p_values.items() if k != "permutation"),
        f"MDE        {'none detectable on these data' if res.mde == math.inf else _fmt(res.mde)}"
        f"  (80% power of the test used, two-sided alpha={alpha:g})",
        f"verdict    {decision['verdict']}" + ("  (underpowered)" if decision["underpowered"] else ""),
    ]
    if margin is not None:
        lines.append(f"margin     {margin:g}: equivalent={decision['equivalent']}, non-inferior={decision['non_inferior']}")
        if decision.get("reason"):
            lines.append(f"           no margin claim: {decision['reason']}")
    if missing["base"] or missing["adapted"]:
        lines.append(f"missing    base {missing['base']}, adapted {missing['adapted']} (scored as wrong)")
    for note in res.notes:
        lines.append(f"note       {note}")
    typer.echo("\n".join(lines))
