"""``dabench score``: score a predictions file against a task split with all its metrics.

A predictions file is JSON Lines: ``{"id": ..., "prediction": ...}`` per example (a label
value for classification, a number for regression, an answer string for generation), or
KILT guess records ``{"id": ..., "output": [{"answer": ..., "provenance": [...]}]}`` as
they are. Every example of the split needs exactly one prediction: missing ids, repeated
ids, ids not in the split and unknown labels are errors (exit code 2). A ``null`` or blank
prediction is a missing answer: scored as wrong (never a class) and counted in the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

import typer

from dabench.cli.data_cmd import parse_split_files
from dabench.cli.flags import DATA_DIR, DATA_FILE, DOWNLOAD, JSON_TEXT, TASK_ARG, TASKS_DIR
from dabench.cli.root import app
from dabench.errors import DataError

if TYPE_CHECKING:  # the command imports the task modules when it runs (a fast --help)
    from dabench.taskspec import TaskSpec

#: ids named in a missing / unknown id error
SHOWN_IDS = 3


def prediction_values(path: Path, spec: TaskSpec) -> dict[str, Any]:
    """{example id: prediction} from a predictions file (see the module docstring). Predictions in a file are
    label values, not indices: ``1`` means the label "1"."""
    from dabench.data.predictions import LINE, read_predictions
    from dabench.data.readers import scalar_text

    def value(v: Any, where: str) -> Any:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, (list, dict)):
            raise DataError(f"{where}: prediction must be a string or a number, not {type(v).__name__}")
        return v if spec.type == "regression" else scalar_text(v)

    out = {}
    for pid, rec in read_predictions(path, ("id", "prediction"), kilt=True).items():
        pred, where = rec["prediction"], f"{path} line {rec[LINE]}"
        out[pid] = ({"answer": value(pred.get("answer"), where), "provenance": pred.get("provenance")}
                    if isinstance(pred, dict) else value(pred, where))
    return out


def align(examples: Sequence, preds: dict[str, Any], split: str, path: Path) -> list[Any]:
    """Predictions in example order; errors for missing and unknown ids."""
    ids = [ex.id for ex in examples]
    known = set(ids)
    missing = [i for i in ids if i not in preds]
    unknown = [i for i in preds if i not in known]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:SHOWN_IDS])
        raise DataError(f"{path}: {len(missing)} of {len(ids)} examples of split {split!r} have no prediction "
                        f"(e.g. {shown}); give one per example")
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:SHOWN_IDS])
        raise DataError(f"{path}: {len(unknown)} prediction ids are not in split {split!r} (e.g. {shown}); wrong split or task?")
    return [preds[i] for i in ids]


@app.command("score")
def score_command(
    task: str = TASK_ARG,
    predictions: Path = typer.Option(..., "--predictions", "-p", help="JSONL predictions ({id, prediction} or KILT guess records)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split the predictions are for (default: the evaluation split)."),
    data_dir: Optional[str] = DATA_DIR,
    data_file: list[str] = DATA_FILE,
    download: bool = DOWNLOAD,
    as_json: bool = JSON_TEXT,
    tasks_dir: list[Path] = TASKS_DIR,
) -> None:
    """Score a predictions file with every metric of the task."""
    from dabench.data import load_split, resolve_data_dir
    from dabench.metrics import count_missing, score_predictions, task_metric
    from dabench.registry import get_registry

    spec = get_registry(tasks_dir).get(task)
    sp = split or spec.eval_split
    examples, digest = load_split(spec, sp, resolve_data_dir(data_dir), parse_split_files(data_file, task), download=download)
    preds = align(examples, prediction_values(predictions, spec), sp, predictions)
    try:
        scores, skipped = score_predictions(spec, examples, preds)
    except ValueError as exc:
        raise DataError(f"task {spec.name!r}: {exc}") from None
    missing = {name: count_missing(task_metric(spec, name), preds) for name in scores}  # per metric: scored as wrong
    result = {"task": spec.name, "split": sp, "n": len(examples), "data_sha256": digest,
              "headline": spec.metric, "metrics": scores, "skipped": skipped, "missing": missing}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"task {spec.name}, split {sp}, {len(examples)} examples")
    width = max([len(k) for k in scores] + [len(k) for k in skipped] + [6])
    for name, value in scores.items():
        mark = "  (headline)" if name == spec.metric else ""
        typer.echo(f"  {name:<{width}}  {value:.4f}{mark}")
    for name, why in skipped.items():
        typer.echo(f"  {name:<{width}}  skipped: {why}")
    if any(missing.values()):
        counts = set(missing.values())
        what = str(counts.pop()) if len(counts) == 1 else ", ".join(f"{name} {n}" for name, n in missing.items())
        typer.echo(f"missing predictions: {what} (scored as wrong)")
