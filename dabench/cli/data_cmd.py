"""``dabench data``: check a task's data files and export its examples.

``data check`` parses every split (or the ones named), lists every bad row with file and
line, and prints the count and label distribution (or score range, or answer statistics);
it exits with code 2 when a row is bad or a named split cannot be found. ``data export``
prints one JSON line per example, in file order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from dabench.cli.flags import DATA_DIR, DATA_FILE, DOWNLOAD, JSON_TEXT, TASK_ARG, TASKS_DIR
from dabench.cli.root import app
from dabench.errors import DabenchError, DataError

if TYPE_CHECKING:  # the commands import the task and data modules when they run (a fast --help)
    from dabench.data.example import Example
    from dabench.taskspec import TaskSpec

data_app = typer.Typer(help="Check and export a task's data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

#: bad rows printed by ``data check`` before "and N more"
SHOWN_BAD_ROWS = 20


def parse_split_files(values: list[str], task: str) -> dict[str, str]:
    """``[TASK:]SPLIT=PATH`` options of a one-task command → {split: path} (the one parser,
    :func:`dabench.options.parse_data_files`; a TASK other than this command's is refused)."""
    from dabench.options import DATA_FILE, parse_data_files

    for v in values:
        m = DATA_FILE.fullmatch(v)
        if m and m.group(1) is not None and m.group(1) != task:
            raise DabenchError(f"--data-file {v!r} names task {m.group(1)!r}, but this command reads {task!r}")
    return parse_data_files(values, [task]).get(task, {})


@data_app.command("check")
def data_check(
    task: str = TASK_ARG,
    data_dir: Optional[str] = DATA_DIR,
    split: list[str] = typer.Option([], "--split", help="Split(s) to check (default: every split whose file is found)."),
    data_file: list[str] = DATA_FILE,
    download: bool = DOWNLOAD,
    as_json: bool = JSON_TEXT,
    tasks_dir: list[Path] = TASKS_DIR,
) -> None:
    """Parse and validate a task's data; print counts, label distribution and bad rows."""
    from dabench.data import load_split, resolve_data_dir
    from dabench.data.check import summarize, warnings
    from dabench.data.sources import locate_split
    from dabench.registry import get_registry

    spec = get_registry(tasks_dir).get(task)
    root = resolve_data_dir(data_dir)
    overrides = parse_split_files(data_file, task)
    named = list(dict.fromkeys(split))
    splits = named or list(dict.fromkeys([*spec.files, *overrides]))
    reports: list[dict[str, Any]] = []
    for sp in splits:
        try:
            path, _ = locate_split(spec, sp, root, overrides, download=download)
        except DataError as exc:
            reports.append({"split": sp, "status": "missing", "message": str(exc)})
            continue
        errors: list[str] = []
        try:
            examples, digest = load_split(spec, sp, root, overrides, download=download, errors=errors)
        except DataError as exc:  # the whole file is unreadable
            reports.append({"split": sp, "status": "bad", "file": str(path), "n": 0, "bad_rows": [str(exc)], "warnings": [],
                            "error": str(exc)})
            continue
        summary = summarize(spec, examples)
        reports.append({
            "split": sp, "status": "bad" if errors else "ok", "file": str(path), "sha256": digest,
            **summary, "bad_rows": errors, "warnings": warnings(spec, summary),
        })
    status = [r["status"] for r in reports]  # failed: a bad row or file, a named split missing, or no split found
    failed = "bad" in status or (bool(named) and "missing" in status) or all(s == "missing" for s in status)
    if as_json:
        typer.echo(json.dumps({"task": spec.name, "format": spec.format, "splits": reports}, indent=2, ensure_ascii=False))
    else:
        _print_check(spec, reports)
    if failed:
        # raised rather than typer.Exit(2): ``main`` maps it to exit code 2 with one line
        bad = sum(len(r.get("bad_rows", [])) for r in reports if "error" not in r)
        missing = [r["split"] for r in reports if r["status"] == "missing"]
        unreadable = [r["split"] for r in reports if "error" in r]
        parts = ([f"{bad} bad rows"] if bad else []) + ([f"split(s) not found: {', '.join(missing)}"] if missing else [])
        parts += [f"unreadable split file(s): {', '.join(unreadable)}"] if unreadable else []
        raise DataError(f"data check of task {spec.name!r} failed: {'; '.join(parts)}")


def _print_check(spec: TaskSpec, reports: list[dict[str, Any]]) -> None:
    typer.echo(f"task {spec.name} ({spec.family}, {spec.type}, format {spec.format})")
    for r in reports:
        if r["status"] == "missing":
            typer.echo(f"  {r['split']}: missing — {r['message']}")
            continue
        if "error" in r:  # the whole file could not be read: no counts to show
            typer.echo(f"  {r['split']}: unreadable — {r['error']}")
            continue
        digest = f" (sha256 {r['sha256'][:12]})" if r.get("sha256") else ""
        typer.echo(f"  {r['split']}: {r['n']} examples from {r['file']}{digest}")
        if "labels" in r:
            width = max(len(k) for k in r["labels"])
            for lab, count in r["labels"].items():
                share = count / r["n"] if r["n"] else 0.0
                typer.echo(f"    {lab:<{width}}  {count:>7}  {share:6.1%}")
        if "score" in r:
            s = r["score"]
            typer.echo(f"    score: min {s['min']:g}, max {s['max']:g}, mean {s['mean']:.4f}")
        if "answers" in r:
            a = r["answers"]
            typer.echo(f"    answers: {a['with_answers']} with, {a['without_answers']} without; "
                       f"{a['mean_answers_per_example']:.2f} per example, {a['mean_answer_words']:.1f} words on average")
        if r.get("with_provenance"):
            typer.echo(f"    provenance: {r['with_provenance']} examples")
        if r.get("clusters"):
            typer.echo(f"    clusters: {r['clusters']}")
        for w in r.get("warnings", []):
            typer.echo(f"    warning: {w}")
        bad = r.get("bad_rows", [])
        if bad:
            typer.echo(f"    {len(bad)} bad rows:")
            for msg in bad[:SHOWN_BAD_ROWS]:
                typer.echo(f"      {msg}")
            if len(bad) > SHOWN_BAD_ROWS:
                typer.echo(f"      ... and {len(bad) - SHOWN_BAD_ROWS} more (--json lists all)")


def example_record(spec: TaskSpec, ex: Example) -> dict[str, Any]:
    """One exported line: id, inputs, reference (label value, gold score, or gold answers)
    and the cluster when the task has one."""
    rec: dict[str, Any] = {"id": ex.id, "inputs": ex.inputs,
                           "reference": list(ex.answers) if spec.type == "generation" else ex.label}
    if ex.cluster is not None:
        rec["cluster"] = ex.cluster
    return rec


@data_app.command("export")
def data_export(
    task: str = TASK_ARG,
    split: Optional[str] = typer.Option(None, "--split", help="Split to export (default: the evaluation split)."),
    data_dir: Optional[str] = DATA_DIR,
    data_file: list[str] = DATA_FILE,
    download: bool = DOWNLOAD,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    tasks_dir: list[Path] = TASKS_DIR,
) -> None:
    """One JSON line per example, in file order: id, inputs, reference (and cluster)."""
    from dabench.data import load_split, resolve_data_dir
    from dabench.registry import get_registry

    spec = get_registry(tasks_dir).get(task)
    examples, _ = load_split(spec, split or spec.eval_split, resolve_data_dir(data_dir), parse_split_files(data_file, task),
                             download=download)
    lines = (json.dumps(example_record(spec, ex), ensure_ascii=False) + "\n" for ex in examples)
    if output is None:
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
