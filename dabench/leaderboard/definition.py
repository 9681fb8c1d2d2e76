"""The leaderboard definition file, ``leaderboard.yaml``: what the site shows.

Example (read with ``yaml.safe_load``; an unknown key is an error naming the file and the key)::

    title: Biomedical adaptation, head to head
    description: Domain-adapted models against their own base models.
    pairs:                      # which records to show; empty or absent = every record
      - {adapted: biomed-roberta, base: roberta-base}   # matched on model name or fingerprint prefix
    tasks: [chemprot, rct]      # task columns, in order; empty = every task of the shown records
    suites: [glue]              # suites whose tasks are added to the columns
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dabench.errors import DabenchError
from dabench.render import write_file

DEFINITION_FILE = "leaderboard.yaml"

DEFAULT_DEFINITION = """\
# dabench leaderboard definition (see `dabench leaderboard --help`)
title: dabench leaderboard
description: Domain-adapted models compared head to head with their base models, with paired statistics.
# pairs: which records to show, e.g. [{adapted: my-biomed-model, base: my-base-model}]; empty = all
pairs: []
# tasks / suites: the task columns of the overview, in order; empty = every task in the records
tasks: []
suites: []
"""


class PairSelector(BaseModel):
    """Selects records whose adapted and base models match (by name or fingerprint prefix)."""

    model_config = ConfigDict(extra="forbid")

    adapted: str | None = None
    base: str | None = None

    def matches(self, record: dict[str, Any]) -> bool:
        return _model_matches(self.adapted, record["adapted"]) and _model_matches(self.base, record["base"])


def _model_matches(selector: str | None, model: dict[str, Any]) -> bool:
    if selector is None:
        return True
    fp = str(model.get("fingerprint", ""))
    return selector == model.get("name") or (len(selector) >= 6 and fp.startswith(selector))


class LeaderboardDefinition(BaseModel):
    """The validated content of ``leaderboard.yaml``."""

    model_config = ConfigDict(extra="forbid")

    title: str = "dabench leaderboard"
    description: str = ""
    pairs: list[PairSelector] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list)
    suites: list[str] = Field(default_factory=list)

    def selects(self, record: dict[str, Any]) -> bool:
        """Whether a record is shown (every record when no pairs are listed)."""
        return not self.pairs or any(p.matches(record) for p in self.pairs)

    def task_columns(self, available: list[str]) -> list[str]:
        """The task columns: listed tasks, then suite members, in order; else ``available``."""
        wanted = list(self.tasks)
        if self.suites:
            from dabench.registry import get_registry

            for spec in get_registry().resolve(self.suites):
                if spec.name not in wanted:
                    wanted.append(spec.name)
        return wanted if wanted else list(available)


def load_definition(directory: str | Path) -> LeaderboardDefinition:
    """The definition in ``directory/leaderboard.yaml``, or the defaults when there is none."""
    path = Path(directory) / DEFINITION_FILE
    if not path.is_file():
        return LeaderboardDefinition()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DabenchError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return LeaderboardDefinition()
    if not isinstance(data, dict):
        raise DabenchError(f"{path}: expected a mapping with title, description, pairs, tasks, suites")
    try:
        return LeaderboardDefinition.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(file)"
        raise DabenchError(f"{path}: field {loc}: {err['msg']}") from None


def write_default_definition(directory: str | Path) -> Path | None:
    """Create ``leaderboard.yaml`` with the defaults if it does not exist; returns it if created."""
    path = Path(directory) / DEFINITION_FILE
    return None if path.exists() else write_file(path, DEFAULT_DEFINITION)
