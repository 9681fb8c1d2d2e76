"""``dabench tasks``: list and show the registered tasks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dabench.cli.flags import TASK_ARG, TASKS_DIR
from dabench.cli.root import app
from dabench.registry import get_registry

COLUMNS = ("name", "family", "domain", "category", "type", "metric", "suites")

tasks_app = typer.Typer(help="List and inspect the registered tasks.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")


@tasks_app.command("list")
def tasks_list(
    suite: str | None = typer.Option(None, "--suite", help="Only the tasks of this suite."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    tasks_dir: list[Path] = TASKS_DIR,
) -> None:
    """List the registered tasks (name, family, domain, category, metric, suites), intrinsic
    (held-out text perplexity) tasks included. Piped output is tab-separated, one task a line."""
    from dabench.intrinsic.spec import get_intrinsic_registry, intrinsic_names

    reg, intrinsic = get_registry(tasks_dir), get_intrinsic_registry(tasks_dir)
    if suite and intrinsic_names([suite], reg, tasks_dir):
        specs, ispecs = [], intrinsic.resolve([suite])
    elif suite and suite not in reg.suites():
        raise reg.unknown(suite, "suite")
    else:
        specs = reg.resolve([suite]) if suite else [reg.get(n) for n in reg.names()]
        ispecs = [] if suite else [intrinsic.get(n) for n in intrinsic.names()]
    rows = [dict(zip(COLUMNS, (s.name, s.family, s.domain, s.category, s.type, s.metric, s.suites))) for s in specs]
    rows += [dict(zip(COLUMNS, (s.name, "intrinsic", s.domain, s.category, "intrinsic", "neg_log_ppl", s.suites)))
             for s in ispecs]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    cells = [[", ".join(r[c]) if isinstance(r[c], list) else str(r[c]) for c in COLUMNS] for r in rows]
    if sys.stdout.isatty():  # a rich table (rich may shorten cells to fit the terminal)
        table = Table(title="dabench tasks")
        for col in COLUMNS:
            table.add_column(col)
        for row in cells:
            table.add_row(*row)
        Console().print(table)
    else:  # tab-separated, never shortened: in a pipe or file a table sized to an unknown width would cut names off
        typer.echo("\t".join(COLUMNS))
        for row in cells:
            typer.echo("\t".join(row))


@tasks_app.command("show")
def tasks_show(
    task: str = TASK_ARG,
    domain: str | None = typer.Option(None, "--domain", help="Show the category relative to this adaptation domain."),
    as_json: bool = typer.Option(False, "--json", help="Print the full spec as JSON."),
    tasks_dir: list[Path] = TASKS_DIR,
) -> None:
    """Show one task: data files and format, fields, labels, templates, metrics, hash."""
    from dabench.intrinsic.spec import get_intrinsic_registry, intrinsic_names
    from dabench.metrics import task_metrics

    reg = get_registry(tasks_dir)
    if intrinsic_names([task], reg, tasks_dir):
        ispec = get_intrinsic_registry(tasks_dir).get(task)
        if as_json:
            typer.echo(json.dumps(ispec.model_dump(mode="json"), indent=2, ensure_ascii=False))
            return
        source = (f"text of {ispec.text_of.task}:{ispec.text_of.split or 'eval split'}" if ispec.text_of
                  else ", ".join(f"{k}: {v}" for k, v in ispec.files.items()))
        typer.echo("\n".join([
            f"{ispec.name} — {ispec.description}" if ispec.description else ispec.name,
            f"  intrinsic task: domain {ispec.domain}, category {ispec.category}, suites {', '.join(ispec.suites) or '-'}",
            f"  documents: {source}; dedupe {ispec.dedupe}",
            f"  measure: {ispec.measure} per {ispec.unit}; headline neg_log_ppl (higher = lower perplexity)",
            f"  run: dabench compare BASE ADAPTED --tasks {ispec.name}   (docs/regimes.md)",
        ]))
        return
    spec = reg.get(task)
    metrics = task_metrics(spec)  # also checks that every metric name is known
    if as_json:
        data = {**spec.model_dump(mode="json"), "spec_hash": spec.spec_hash(),
                "category_for_domain": spec.category_for(domain),
                "metric_inputs": {n: getattr(m, "input_kind", "label") for n, m in metrics.items()}}
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    lines = [
        f"{spec.name} — {spec.description}" if spec.description else spec.name,
        f"  family {spec.family}, domain {spec.domain}, category {spec.category_for(domain)}, type {spec.type}",
        f"  suites: {', '.join(spec.suites) or '-'}",
        f"  format: {spec.format}" + ("; files ship with dabench (no data dir needed)" if spec.data_source == "package" else ""),
    ]
    for split, rel in spec.files.items():
        roles = [r for r, s in (("eval", spec.eval_split), ("few-shot", spec.fewshot_split),
                                ("prompt selection", spec.validation_split)) if s == split]
        lines.append(f"    {split}: {rel}" + (f"  ({', '.join(roles)})" if roles else ""))
    lines.append(f"  inputs: {', '.join(f'{k} <- {v}' for k, v in spec.fields.items())}")
    if spec.labels:
        lines.append("  labels: " + ", ".join(f"{lab} ({spec.verbalizers[lab]!r})" for lab in spec.labels))
    if spec.cluster_field:
        lines.append(f"  resampling cluster: {spec.cluster_field}")
    if spec.type != "classification":
        g = spec.generation_config()
        lines.append(f"  generation: stop {g.stop!r}, max_new_tokens {g.max_new_tokens}, extraction {g.extraction}"
                     + (f", fallback {g.fallback!r}" if g.fallback is not None else ""))
    lines.append(f"  metric: {spec.metric}" + (f"; secondary: {', '.join(spec.secondary_metrics)}" if spec.secondary_metrics else ""))
    lines.append("  templates:")
    for t in spec.templates:
        lines.append(f"    [{t.id}] {t.text!r}")
    if spec.source.get("instructions"):
        lines.append(f"  data: {spec.source['instructions']}")
    lines.append(f"  spec hash: {spec.spec_hash()}")
    typer.echo("\n".join(lines))
