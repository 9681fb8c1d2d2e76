"""``dabench gate``: pass or fail a candidate checkpoint against a baseline, per task.

The forms of BASELINE and CANDIDATE are in :func:`gate`'s help. Two checkpoints run ``dabench.compare``
(the baseline as ``base``); the store keeps every per-example record by model fingerprint and task version,
so a baseline evaluated before is not evaluated again. A CANDIDATE against a stored comparison is compared
under the stored protocol, and the gate refuses to run (exit 2) when the baseline's fingerprint no longer
matches the stored one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

import typer

from dabench.cli.root import app
from dabench.cli.flags import RawOptions, run_options, split_names
from dabench.cli.output import check_writable
from dabench.errors import DabenchError
from dabench.options import RunOptions


def _task_names(tasks: str | None, suite: str | None, tasks_dirs: list[Path], known: set[str] | None = None
                ) -> list[str] | None:
    """Task names from ``--tasks``/``--suite``, suites expanded through the registry. Names in
    ``known`` (the tasks of a stored comparison) are taken as they are, so a comparison of
    tasks that this installation does not have can still be gated."""
    names = split_names(tasks) + split_names(suite)
    if not names:
        return None
    from dabench.intrinsic.spec import get_intrinsic_registry, intrinsic_names
    from dabench.registry import get_registry

    registry = get_registry(tasks_dirs)
    intrinsic = set(intrinsic_names(names, registry, tasks_dirs))
    out: list[str] = []
    for name in names:
        if (known is not None and name in known) or name.startswith("lmeval:"):
            resolved = [name]  # lm-eval tasks are resolved by lm-eval's task manager, in the run
        elif name in intrinsic:
            resolved = [s.name for s in get_intrinsic_registry(tasks_dirs).resolve([name])]
        else:
            resolved = [s.name for s in registry.resolve([name])]
        out += [n for n in resolved if n not in out]
    return out


def _run_compare(baseline: str, candidate: str, tasks: list[str], options: RunOptions) -> dict[str, Any]:
    """The comparison of the candidate (as adapted) against the baseline (as base), as a dict."""
    from dabench.pipeline import run_comparison

    return run_comparison(baseline, candidate, tasks, options).to_dict()


def _local_fingerprint(checkpoint: str) -> str | None:
    """The fingerprint of a local checkpoint folder, computed before any model is loaded
    (None for a hub id, or where it cannot be computed up front)."""
    from dabench.engines.fingerprint import directory_fingerprint

    path = Path(checkpoint)
    return directory_fingerprint(path) if path.is_dir() else None


def _check_fingerprint(checkpoint: str, expected: str, source: str, actual: str | None) -> None:
    if actual is not None and actual != expected:
        raise DabenchError(
            f"{source}: the baseline at {checkpoint} has fingerprint {actual[:16]}, not the stored {expected[:16]}: "
            "it changed since the comparison was written; gate against the checkpoint itself instead"
        )


def _print_result(result: Any, policy: bool) -> None:
    """A table of the per-task decisions (or the policy's outcomes), then each task's reason, then the verdict."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from dabench.render import fmt

    style = {"pass": "bold green", "fail": "bold red", "inconclusive": "bold yellow"}
    columns: dict[str, Literal["left", "right"]]
    if policy:
        how, width, reason_style = f"policy {result.policy}", 160, style
        columns = dict.fromkeys(("tier", "task", "mode", "margin", "Δ", "CI", "outcome"), "left")
        outcomes = [t.outcome for t in result.tasks]
        rows = [[t.tier, t.task, t.mode, t.margin_spec, fmt.signed(t.delta), fmt.interval(t.ci),
                 Text(t.outcome, style=style[t.outcome])] for t in result.tasks]
        verdict = {"GO": "bold green", "NO-GO": "bold red"}.get(result.outcome, "bold yellow")
    else:
        regression = result.mode == "regression"
        how, width = f"{result.mode}, margin {result.margin:g}", 140
        reason_style = {"pass": "green", "fail": "bold red"}
        columns = {"task": "left", "category": "left", "metric": "left", "Δ": "right", "CI": "right",
                   "Holm p" if regression else "lower bound": "right", "result": "left"}
        outcomes = ["pass" if t.passed else "fail" for t in result.tasks]
        rows = [[t.task, t.category, t.metric, fmt.signed(t.delta), fmt.interval(t.ci),
                 fmt.pval(t.p_holm) if regression else fmt.signed(t.lower_bound), Text(o.upper(), style=style[o])]
                for t, o in zip(result.tasks, outcomes)]
        verdict = style["pass" if result.passed else "fail"]
    # CI logs are not terminals: do not squeeze the table into rich's default 80 columns there
    console = Console(width=None if sys.stdout.isatty() else width)
    table = Table(title=f"dabench gate ({how}, alpha {result.alpha:g}): "
                        f"{result.candidate.get('name')} vs baseline {result.baseline.get('name')}")
    for col, justify in columns.items():
        table.add_column(col, justify=justify, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for t, outcome in zip(result.tasks, outcomes):
        console.print(Text.assemble((f"{outcome.upper()} ", reason_style[outcome]), (t.task, "bold"), ": ", t.reason))
    for note in getattr(result, "notes", ()):
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text(result.summary(), style=verdict))


@app.command("gate")
@run_options(exclude={"correction"})
def gate(
    baseline: str = typer.Argument(..., help="Baseline checkpoint, or a stored comparison.json (see `dabench gate --help`)."),
    candidate: str | None = typer.Argument(None, help="Candidate checkpoint; omit to gate a stored comparison as it is."),
    tasks: str | None = typer.Option(None, "--tasks", help="Comma-separated task or suite names."),
    suite: str | None = typer.Option(None, "--suite", help="Comma-separated suite names (added to --tasks)."),
    mode: str | None = typer.Option(None, "--mode", help="regression (fail on a significant drop beyond the margin) or non-inferiority (pass only when the CI's lower bound is above -margin). [default: regression]"),
    policy: Path | None = typer.Option(None, "--policy", help="A gate policy (YAML): tasks in tiers (critical, supporting, advisory), each with its mode (regression, non-inferiority, must-improve) and margin; outcome GO / NO-GO / INCONCLUSIVE, exit 0 / 1 / 3 (docs/ci.md)."),
    summary: Path | None = typer.Option(None, "--summary", help="Also write a Markdown summary of the gate (e.g. $GITHUB_STEP_SUMMARY)."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML file (one testcase per task)."),
    as_json: bool = typer.Option(False, "--json", help="Print the gate result as JSON on stdout instead of a table."),
    out: Path | None = typer.Option(None, "--out", help="Folder to write the comparison.json and report.html of this gate."),
    baseline_side: str = typer.Option("adapted", "--baseline-side", help="With a stored comparison and a CANDIDATE: which of its models is the baseline (adapted or base)."),
    options: RawOptions = RawOptions(),
) -> None:
    """Gate a candidate checkpoint against a baseline: exit 0 pass, 1 fail, 2 bad input (3: inconclusive, --policy).

    BASELINE CANDIDATE: compare two checkpoints (stored baseline records are reused), then gate.

    COMPARISON.json: gate a stored comparison as it is; nothing is run.

    COMPARISON.json CANDIDATE: gate against that comparison's adapted model (or --baseline-side base), same protocol
    (every recorded option; a flag given overrides it).

    --margin: tolerated drop in each task's headline metric (default: the comparison's, else 0). See docs/ci.md.
    """
    if junit is not None:
        check_writable(junit)  # before any model loads (nowhere to say why if this fails)
    try:
        if out is not None:
            check_writable(out / "gate.json")
        if summary is not None:
            check_writable(summary)
        _gate(baseline, candidate, tasks, suite, mode, junit, as_json, out, baseline_side, options, policy, summary)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # the gate could not run: JUnit says why (exit 2 from main, never 1)
        if junit is not None:
            from dabench.render.junit import write_junit_error

            what = str(exc) if isinstance(exc, DabenchError) else f"internal error: {type(exc).__name__}: {exc}"
            write_junit_error(junit, what)
        raise


def _gate(baseline: str, candidate: str | None, tasks: str | None, suite: str | None, mode: str | None,
          junit: Path | None, as_json: bool, out: Path | None, baseline_side: str, options: RawOptions,
          policy_path: Path | None = None, summary: Path | None = None) -> None:
    """The gate itself (see :func:`gate`)."""
    from dabench.comparison import read_comparison
    from dabench.gate import MODES, evaluate
    from dabench.gate_policy import apply_policy, load_policy

    policy = None
    if policy_path is not None:  # read and checked before any model loads
        policy = load_policy(policy_path)
        given = [f for f, v in (("--mode", mode), ("--margin", options.get("margin"))) if v is not None]
        if given:
            raise DabenchError(f"{', '.join(given)}: with --policy each task's mode and margin come from the policy; "
                               "drop them")
        if tasks is None and suite is None:
            tasks = ",".join(policy.names())
    mode = mode or "regression"
    if mode not in MODES:
        raise DabenchError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if baseline_side not in ("adapted", "base"):
        raise DabenchError(f"--baseline-side must be adapted or base, not {baseline_side!r}")
    if candidate is not None and candidate.lower().endswith(".json"):
        raise DabenchError(f"CANDIDATE {candidate!r} is a JSON file; pass a checkpoint, or pass the stored "
                           "comparison alone as `dabench gate COMPARISON.json`")
    margin, alpha = options.get("margin"), options.get("alpha")
    tasks_dirs = [Path(d) for d in options.get("tasks_dir") or []]
    gate_tasks: list[str] | None = None  # a filter, only when gating a stored comparison as it is
    if baseline.lower().endswith(".json"):  # a stored comparison, not a checkpoint
        stored = read_comparison(baseline)
        names = _task_names(tasks, suite, tasks_dirs, known={t["task"] for t in stored["tasks"]})
        if candidate is None:
            run_flags = [f for f in options.given_names() if f not in ("--margin", "--alpha", "--tasks-dir")]
            if run_flags:
                raise DabenchError(f"{', '.join(run_flags)}: these apply only when a model is run; a stored comparison "
                                   "alone is gated as it is")
            options.layered()  # the given values are still checked
            comparison, gate_tasks, source = stored, names, baseline
        else:
            cfg = stored.get("config", {}) or {}
            run = options.layered(stored=cfg, correction="holm")
            margin = run.stats.margin
            # the baseline's checkpoint: its path if it still exists (as given, or beside the JSON), else a hub id
            model = stored[baseline_side]
            ckpt = next((str(p) for p in (Path(model["path"]), Path(baseline).parent / model["path"]) if p.exists()),
                        model["path"] or model["name"])
            expected = model["fingerprint"]
            _check_fingerprint(ckpt, expected, baseline, _local_fingerprint(ckpt))
            run_tasks = names or list(cfg.get("tasks") or [t["task"] for t in stored["tasks"]])
            comparison = _run_compare(ckpt, candidate, run_tasks, run)
            _check_fingerprint(ckpt, expected, baseline, comparison["base"]["fingerprint"])
            source = f"gate of {candidate} against {ckpt}"
    else:
        if candidate is None:
            raise DabenchError(f"BASELINE {baseline!r} is a checkpoint, so a CANDIDATE checkpoint is needed "
                               "(or pass a stored comparison.json alone)")
        names = _task_names(tasks, suite, tasks_dirs)
        if not names:
            raise DabenchError("pass --tasks or --suite to say what the gate evaluates (see `dabench tasks list`)")
        comparison = _run_compare(baseline, candidate, names, options.layered(correction="holm"))
        source = f"gate of {candidate} against {baseline}"
    result: Any
    if policy is not None:
        def expand(name: str) -> list[str]:
            try:
                return _task_names(name, None, tasks_dirs) or []
            except DabenchError:
                return []

        result = apply_policy(comparison, policy, alpha=alpha, source=source, expand=expand)
    else:
        result = evaluate(comparison, mode=mode, margin=margin, alpha=alpha, tasks=gate_tasks, source=source)
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        with summary.open("a", encoding="utf-8") as f:  # appended: $GITHUB_STEP_SUMMARY collects every step's
            f.write(result.markdown() if policy is not None else _markdown(result))
    if out is not None:
        from dabench.render.html import write_html_report

        out.mkdir(parents=True, exist_ok=True)
        (out / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n", encoding="utf-8")
        write_html_report(comparison, out / "report.html")
        (out / "gate.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    if junit is not None:
        from dabench.render.junit import write_junit

        write_junit(result, junit, created=comparison.get("created"))
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        sys.stdout.flush()
    else:
        _print_result(result, policy is not None)
    raise typer.Exit(code=result.exit_code)


def _markdown(result: Any) -> str:
    """A Markdown summary of a plain (policy-less) gate."""
    from dabench.gate_policy import md_cell
    from dabench.render import fmt

    lines = [f"## dabench gate: {'PASSED' if result.passed else 'FAILED'}", "", md_cell(result.summary()), "",
             "| task | Δ | CI | result | why |", "|---|---|---|---|---|"]
    for t in result.tasks:
        lines.append(f"| {md_cell(t.task)} | {fmt.signed(t.delta)} | {fmt.interval(t.ci)} | "
                     f"**{'pass' if t.passed else 'fail'}** | {md_cell(t.reason)} |")
    return "\n".join(lines) + "\n"

