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

from dabench.cli.data_cmd import DATA_DIR_HELP, DATA_FILE_HELP, DOWNLOAD_HELP, parse_split_files, resolve_task
from dabench.cli.root import app
from dabench.errors import DataError

if TYPE_CHECKING:  # the command imports the task modules when it runs (a fast --help)
    from dabench.taskspec import TaskSpec

#: ids named in a missing / unknown id error
SHOWN_IDS = 3


def prediction_values(path: Path, spec: TaskSpec) -> dict[str, Any]:
    """{example id: prediction} from a predictions file (see the module docstring), read by
    :func:`dabench.data.predictions.read_predictions`."""
    from dabench.data.predictions import LINE, read_predictions

    records = read_predictions(path, ("id", "prediction"), kilt=True)
    return {pid: _as_value(spec, rec["prediction"], f"{path} line {rec[LINE]}") for pid, rec in records.items()}


def _as_value(spec: TaskSpec, pred: Any, where: str) -> Any:
    """Predictions in a file are label values, not indices: ``1`` means the label "1"."""
    from dabench.data.readers import scalar_text

    def conv(v: Any) -> Any:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, (list, dict)):
            raise DataError(f"{where}: prediction must be a string or a number, not {type(v).__name__}")
        return v if spec.type == "regression" else scalar_text(v)

    if isinstance(pred, dict):
        return {"answer": conv(pred.get("answer")), "provenance": pred.get("provenance")}
    return conv(pred)


def missing_counts(spec: TaskSpec, names: Sequence[str], preds: Sequence[Any]) -> dict[str, int]:
    """Per scored metric, how many predictions it scored as missing (always wrong)."""
    from dabench.metrics import count_missing, task_metric

    return {name: count_missing(task_metric(spec, name), preds) for name in names}


def missing_line(missing: dict[str, int]) -> str | None:
    """The output line on missing predictions; None when there are none."""
    if not any(missing.values()):
        return None
    counts = set(missing.values())
    if len(counts) == 1:
        return f"missing predictions: {counts.pop()} (scored as wrong)"
    parts = ", ".join(f"{name} {n}" for name, n in missing.items())
    return f"missing predictions: {parts} (scored as wrong)"


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
    task: str = typer.Argument(..., help="Task name (see `dabench tasks list`)."),
    predictions: Path = typer.Option(..., "--predictions", "-p", help="JSONL predictions ({id, prediction} or KILT guess records)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split the predictions are for (default: the evaluation split)."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    data_file: list[str] = typer.Option([], "--data-file", help=DATA_FILE_HELP),
    download: bool = typer.Option(False, "--download", help=DOWNLOAD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help="Extra dir of task YAML specs (repeatable)."),
) -> None:
    """Score a predictions file with every metric of the task."""
    from dabench.data import load_split, resolve_data_dir
    from dabench.metrics import score_predictions

    spec = resolve_task(task, tasks_dir)
    sp = split or spec.eval_split
    examples, digest = load_split(spec, sp, resolve_data_dir(data_dir), parse_split_files(data_file, task), download=download)
    preds = align(examples, prediction_values(predictions, spec), sp, predictions)
    try:
        scores, skipped = score_predictions(spec, examples, preds)
    except ValueError as exc:
        raise DataError(f"task {spec.name!r}: {exc}") from None
    missing = missing_counts(spec, list(scores), preds)
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
    line = missing_line(missing)
    if line is not None:
        typer.echo(line)
