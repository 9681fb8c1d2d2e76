"""Intrinsic task specs: which held-out text a model is scored on, and how.

An intrinsic task names a body of documents — the text of another task's split
(``text_of``), or a file of its own (``files`` + ``format``) — and a measure: perplexity for
causal LMs, pseudo-perplexity for masked LMs, or ``auto`` (chosen from the checkpoints).

The specs live in ``tasks/intrinsic/*.yml``: the ``.yml`` suffix keeps them apart from the
``*.yaml`` :class:`~dabench.taskspec.TaskSpec` files, so each registry stays strict.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dabench.errors import TaskError
from dabench.registry import INTRINSIC_SUFFIX, SpecRegistry, builtin_tasks_dir, registry_dirs
from dabench.taskspec import Category, Download

Measure = Literal["auto", "perplexity", "pseudo_perplexity"]
Unit = Literal["token", "byte"]


class TextOf(BaseModel):
    """Documents = the input text of a registered task's split (one document per example)."""

    model_config = ConfigDict(extra="forbid")

    task: str
    #: the task's split; default: its evaluation split
    split: str | None = None
    #: input fields joined with a newline; default: all of the task's input fields
    fields: list[str] | None = None


class IntrinsicSpec(BaseModel):
    """One intrinsic task, as declared in ``tasks/intrinsic/<name>.yml``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    citation: str = ""
    domain: str = "general"
    category: Category = "out-of-domain"
    suites: list[str] = Field(default_factory=list)

    text_of: TextOf | None = None
    #: a file of documents instead of ``text_of``: ``{split: path relative to the data dir}``
    files: dict[str, str] = Field(default_factory=dict)
    #: ``lines`` (one document per non-empty line) or ``jsonl`` (``text_field`` of each object)
    format: Literal["lines", "jsonl"] | None = None
    text_field: str | None = None
    split: str = "test"
    #: how to obtain ``files`` (shown in errors) and where to fetch them with ``--download``,
    #: as in a task spec (:mod:`dabench.data.sources`); not part of the hash
    source: dict[str, str] = Field(default_factory=dict)
    download: Download | None = None

    #: substrings deleted from every document before scoring (e.g. ChemProt's entity markers)
    remove: list[str] = Field(default_factory=list)
    #: drop documents whose cleaned text repeats an earlier one (ChemProt repeats a sentence
    #: once per marked entity pair)
    dedupe: bool = True
    min_chars: int = Field(1, ge=1)

    measure: Measure = "auto"
    #: denominator of the perplexity: model tokens (same tokenizer on both sides) or UTF-8 bytes
    unit: Unit = "token"
    #: longest window scored at once (tokens); None: the model's context size
    max_length: int | None = Field(None, gt=8)

    @model_validator(mode="after")
    def _check(self) -> "IntrinsicSpec":
        if (self.text_of is None) == (not self.files):
            raise ValueError("give exactly one of text_of (a task's split) or files (+ format)")
        if self.files:
            if self.format is None:
                raise ValueError("files needs format: lines or jsonl")
            if self.split not in self.files:
                raise ValueError(f"split {self.split!r} has no entry in files")
            if self.format == "jsonl" and not self.text_field:
                raise ValueError("format jsonl needs text_field")
        return self

    def category_for(self, domain: str | None) -> str:
        if domain is None:
            return self.category
        return "in-domain" if self.domain == domain else "out-of-domain"

    def spec_hash(self) -> str:
        """A short stable hash of everything that changes the scored documents and measure."""
        payload = self.model_dump(exclude={"description", "citation", "suites", "category", "domain", "source", "download"})
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


class IntrinsicRegistry(SpecRegistry[IntrinsicSpec]):
    """Intrinsic specs by name (and the suites they belong to)."""

    kind = "intrinsic task"
    none_given = "no intrinsic tasks given; pass --tasks with intrinsic task names (tasks/intrinsic/*.yml)"
    suffix = INTRINSIC_SUFFIX
    model = IntrinsicSpec

    def knows(self, name: str) -> bool:
        """Whether ``name`` is an intrinsic task or the name of a suite of intrinsic tasks."""
        return name in self._specs or name in self.suites()

    def unknown(self, name: str, kind: str) -> TaskError:
        return TaskError(f"unknown intrinsic task {name!r}; known: {', '.join(self.names()) or '(none)'}")


def intrinsic_names(names: Iterable[str], registry: Any, tasks_dirs: Iterable[str | os.PathLike] = ()) -> list[str]:
    """The names that are intrinsic tasks (or suites of them) and not tasks or suites of the
    prompted ``registry``: the ones a comparison scores as held-out text."""
    rest = [n.strip() for n in names if n.strip() and n.strip() not in registry.names()
            and n.strip() not in registry.suites()]
    if not rest:
        return []
    known = get_intrinsic_registry(tasks_dirs)
    return [n for n in rest if known.knows(n)]


@lru_cache(maxsize=8)
def _cached(dirs: tuple[Path, ...]) -> IntrinsicRegistry:
    return IntrinsicRegistry(dirs)


def get_intrinsic_registry(extra_dirs: Iterable[str | os.PathLike] = ()) -> IntrinsicRegistry:
    """Built-in ``tasks/intrinsic`` plus ``extra_dirs`` and ``DABENCH_TASKS_PATH``."""
    return _cached(registry_dirs(builtin_tasks_dir() / "intrinsic", extra_dirs))
