"""Every flag that README.md and docs/*.md show for ``compare``, ``gate``, ``lmeval compare``,
``sweep`` and ``leaderboard add|build`` is accepted by that command; the checkpoint flags of docs/engines.md by every
command that loads checkpoints; and the commands that run models share their option flags
(declared once in ``dabench.options``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from dabench.cli import _register, app
from dabench.options import all_fields

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = {"compare": ("compare",), "gate": ("gate",), "lmeval compare": ("lmeval", "compare"),
            "sweep": ("sweep",), "leaderboard add": ("leaderboard", "add"),
            "leaderboard build": ("leaderboard", "build")}
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _command(path: tuple[str, ...]) -> Any:
    """The click command of ``dabench PATH…`` (typer vendors its own click, so duck-typed)."""
    _register()
    cmd: Any = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def _accepted(path: tuple[str, ...]) -> set[str]:
    out = {"--help"}
    for p in _command(path).params:
        out.update(o for o in [*p.opts, *p.secondary_opts] if o.startswith("--"))
    return out


def _command_lines(text: str) -> list[tuple[str, str]]:
    """(command, line) for every shown invocation, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        for m in re.finditer(r"dabench (lmeval compare|leaderboard add|leaderboard build|compare|gate|sweep)\b(.*)", line):
            out.append((m.group(1), m.group(2).split("`")[0] if "`" in line[:m.start()] else m.group(2)))
    return out


def _documented() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        for command, rest in _command_lines(doc.read_text(encoding="utf-8")):
            for flag in FLAG.findall(rest):
                if flag in ("--log_samples",):
                    continue
                found.append((doc.name, command, flag))
    return sorted(set(found))


def test_documented_invocations_were_found():
    commands = {c for _, c, _ in _documented()}
    assert commands == set(COMMANDS), commands


@pytest.mark.parametrize("doc,command,flag", _documented())
def test_every_documented_flag_is_accepted(doc, command, flag):
    assert flag in _accepted(COMMANDS[command]), f"{doc} shows `dabench {command} … {flag}`, which the command rejects"


def test_checkpoint_flags_of_the_engine_docs_are_accepted_by_every_command_that_loads_models():
    text = (ROOT / "docs" / "engines.md").read_text(encoding="utf-8")
    checkpoint_flags = {f for f in FLAG.findall(text) if f in {"--arch", "--adapter-base", "--ckpt-prefix",
                                                              "--allow-pickle", "--engine", "--label-map",
                                                              "--trust-remote-code"}}
    assert {"--arch", "--ckpt-prefix", "--allow-pickle", "--adapter-base", "--engine"} <= checkpoint_flags
    for path in (("compare",), ("gate",)):
        missing = checkpoint_flags - _accepted(path)
        assert not missing, f"dabench {' '.join(path)} lacks {sorted(missing)}"


def test_compare_and_gate_share_every_option_flag_once():
    flags = {f.metadata["flag"] for f in all_fields().values()}
    compare, gate = _accepted(("compare",)), _accepted(("gate",))
    assert flags <= compare
    assert flags - {"--correction"} <= gate  # the gate decides with Holm p-values
    for path in COMMANDS.values():
        opts = [o for p in _command(path).params for o in p.opts]
        assert len(opts) == len(set(opts)), f"a flag appears twice in dabench {' '.join(path)}"


def test_engine_vllm_is_reachable_from_the_command_line(capsys):
    from dabench.cli import main

    # the option is parsed and reaches the engine registry (vllm is not installed here)
    code = main(["compare", "a", "b", "--tasks", "sst2", "--engine", "nosuch"])
    assert code == 2 and "--engine must be one of hf, vllm" in capsys.readouterr().err
