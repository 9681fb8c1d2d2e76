"""Where a leaderboard row comes from: both fingerprints, the engine, each model's prompt format,
the seeds, the dabench version, and the exact command that reproduces it (built from the
options the comparison recorded, through the one table of flags in :mod:`dabench.options`)."""

from __future__ import annotations

import shlex
from typing import Any, Mapping

from dabench.options import command_flags, replayed
from dabench.render.regime_fmt import regime_of


def reproduce_command(data: Mapping[str, Any]) -> str:
    """The ``dabench compare`` command line that reruns this comparison (model paths as recorded)."""
    cfg = data.get("config") or {}
    base, adapted = data["base"]["path"], data["adapted"]["path"]
    stats = {k: cfg[k] for k in ("seed", "resamples", "alpha", "margin", "correction") if k in cfg}
    if cfg.get("from_lmeval"):
        base, adapted = cfg["from_lmeval"]
        argv = ["dabench", "compare", base, adapted, "--from-lmeval", *command_flags(stats)]
    else:
        tasks = cfg.get("tasks") or [t["task"] for t in data["tasks"]]
        argv = ["dabench", "compare", base, adapted, "--tasks", ",".join(tasks),
                *command_flags({**stats, **replayed(cfg)})]
    return " ".join(shlex.quote(str(a)) for a in argv)


def sweep_command(sweep: Mapping[str, Any]) -> str:
    """The ``dabench sweep`` command line that reruns this sweep (checkpoint paths as recorded)."""
    cfg = sweep.get("config") or {}
    first = sweep["checkpoints"][0]["comparison"].get("config") or {}
    stats = {k: cfg[k] for k in ("alpha", "margin", "correction") if k in cfg}
    argv = ["dabench", "sweep", sweep["base"]["path"], *[cp["path"] for cp in sweep["checkpoints"]],
            "--tasks", ",".join(cfg.get("tasks") or []), *command_flags({**replayed(first), **stats})]
    return " ".join(shlex.quote(str(a)) for a in argv)


def provenance(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, value) lines for a row's provenance block."""
    cfg, sig = data.get("config") or {}, data.get("signature") or {}
    options = cfg.get("options") or {}
    engine = options.get("engine") or cfg.get("engine") or ("lm-eval" if cfg.get("source") == "lm-eval" else "hf")
    formats = sorted({f"{t['task']}: base {t['templates'].get('base', '?')}, adapted {t['templates'].get('adapted', '?')}"
                      for t in data["tasks"] if t.get("templates")})
    seeds = cfg.get("seeds")
    rows = [
        ("base model", f"{data['base']['name']} ({data['base']['path']})"),
        ("base fingerprint", data["base"]["fingerprint"]),
        ("adapted model", f"{data['adapted']['name']} ({data['adapted']['path']})"),
        ("adapted fingerprint", data["adapted"]["fingerprint"]),
        ("engine", str(engine)),
        ("regime", regime_of(data)),
        ("prompt format", "; ".join(formats) if formats else "n/a (no prompting)"),
        ("seed", str(cfg.get("seed", ""))),
    ]
    if seeds:
        rows.append(("training seeds", ", ".join(str(s) for s in seeds)))
    if sig.get("task_hashes"):
        rows.append(("task versions", ", ".join(f"{k} {v}" for k, v in sorted(sig["task_hashes"].items()))))
    rows += [("dabench version", str(data.get("dabench_version", ""))), ("created", str(data.get("created", "")))]
    return rows
