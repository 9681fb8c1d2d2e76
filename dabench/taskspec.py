"""Task specifications: the validated form of a ``tasks/*.yaml`` file.

A spec names where a task's data lives and how to read it, which fields are inputs, the
fixed label vocabulary, prompt templates with label verbalisers, the headline and secondary
metrics, the domain it belongs to and the suites that include it. Everything that changes
what is evaluated goes into :meth:`TaskSpec.spec_hash`, so stored records of an older
version of a task are never reused for a newer one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dabench.errors import TaskError

Category = Literal["in-domain", "out-of-domain", "knowledge"]
CATEGORIES: tuple[str, ...] = ("in-domain", "out-of-domain", "knowledge")


class Template(BaseModel):
    """A prompt template. ``text`` uses ``{field}`` placeholders for the task's input
    fields; the verbaliser of a label (or the answer) follows after ``target_delimiter``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"


class Generation(BaseModel):
    """How a generative task is decoded and how its answer is read from the output.

    ``stop`` and ``max_new_tokens`` go to the engine's ``generate``; ``extraction`` names how
    :func:`dabench.data.answers.extract_answer` takes the answer: ``first_line`` (first
    non-empty line), ``strip`` (whole text), ``regex`` (group 1 of ``pattern``, else the whole
    match), ``number`` (first number). ``trim`` lists characters removed from both ends
    afterwards; ``fallback`` is used when nothing was extracted (a regression task needs a
    number for every example).
    """

    model_config = ConfigDict(extra="forbid")

    stop: list[str] = Field(default_factory=lambda: ["\n"])
    max_new_tokens: int = Field(32, gt=0)
    extraction: Literal["first_line", "strip", "regex", "number"] = "first_line"
    pattern: str | None = None
    trim: str = ""
    fallback: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "Generation":
        if self.extraction == "regex":
            if not self.pattern:
                raise ValueError("extraction 'regex' needs a pattern")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"invalid pattern: {exc}") from None
        return self


class HFSource(BaseModel):
    """A copy of the task on the Hugging Face hub, read through ``datasets`` when online.

    ``splits`` maps the task's split names to the hub's; ``fields`` maps the task's input
    names to hub columns; ``label_column`` holds the label (with ``label_names`` true an
    integer class label is replaced by its ClassLabel name); ``id_column`` the example id.
    With ``as_is`` true the rows are written unchanged in the task's own format (KILT).
    """

    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = None
    splits: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict)
    label_column: str | None = None
    label_names: bool = False
    id_column: str | None = None
    as_is: bool = False


class Download(BaseModel):
    """Where each split file can be fetched from (see :mod:`dabench.data.sources`).

    ``urls`` maps a split to the original URL; when the URL is a zip archive,
    ``archive_member`` names the file inside it. ``sha256`` pins the expected digest of the
    split file; without it the digest seen at first download is recorded and checked on
    every later use of the cached copy.
    """

    model_config = ConfigDict(extra="forbid")

    urls: dict[str, str] = Field(default_factory=dict)
    archive_member: dict[str, str] = Field(default_factory=dict)
    sha256: dict[str, str] = Field(default_factory=dict)
    hf: HFSource | None = None


class DataFiles(Protocol):
    """What the split locator (:mod:`dabench.data.sources`) needs of a spec: a task spec or
    an intrinsic spec with its own files."""

    name: str
    files: dict[str, str]
    source: dict[str, str]
    download: Download | None

    @property
    def format(self) -> str | None: ...


#: optional fields added after the first release; left out of :meth:`TaskSpec.spec_hash`
#: while they hold their default, so the hash of a spec that does not use them is unchanged
_HASH_OPTIONAL_DEFAULTS: dict[str, Any] = {"generation": None, "metric_options": {}, "score_range": None}


class TaskSpec(BaseModel):
    """One task, as declared in YAML."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    family: str = ""
    citation: str = ""
    #: the domain the task's text comes from (e.g. ``biomed``, ``general``)
    domain: str = "general"
    #: category used when no adaptation domain is named
    category: Category = "out-of-domain"
    #: knowledge probes stay in the ``knowledge`` category whatever the domain
    knowledge: bool = False
    suites: list[str] = Field(default_factory=list)
    type: Literal["classification", "regression", "generation"] = "classification"

    #: reader name (see ``dabench.data.readers.READERS``) and its options
    format: str
    format_options: dict[str, Any] = Field(default_factory=dict)
    #: where the paths in ``files`` are rooted: ``data_dir`` (the user's data dir, the
    #: default) or ``package`` (files shipped inside the dabench package, found without a data
    #: dir; see :mod:`dabench.data.packaged`)
    data_source: Literal["data_dir", "package"] = "data_dir"
    #: split name -> path relative to the data dir (or to the package, see ``data_source``)
    files: dict[str, str]
    eval_split: str
    fewshot_split: str | None = None
    #: split used to choose a prompt per model; never the eval split
    validation_split: str | None = None

    #: input name -> column / key of the raw record
    fields: dict[str, str]
    label_field: str | None = None
    id_field: str | None = None
    cluster_field: str | None = None

    #: label values exactly as they appear in the data, in a fixed order
    labels: list[str] = Field(default_factory=list)
    #: label value -> text the model is scored on
    verbalizers: dict[str, str] = Field(default_factory=dict)
    templates: list[Template]

    metric: str
    secondary_metrics: list[str] = Field(default_factory=list)

    #: how to obtain the data when no local copy exists (shown in errors)
    source: dict[str, str] = Field(default_factory=dict)
    #: machine-readable download locations (original URLs, HF hub); not part of the hash
    download: Download | None = None

    #: decoding and answer extraction of generative (and generated regression) tasks
    generation: Generation | None = None
    #: options passed to metrics, e.g. ``rank_keys`` for KILT retrieval metrics
    metric_options: dict[str, Any] = Field(default_factory=dict)
    #: [low, high] of a regression task's gold scores (checked when reading)
    score_range: list[float] | None = None

    @field_validator("files")
    @classmethod
    def _check_packaged_files(cls, files: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        """A ``data_source: package`` path must stay inside the package (relative, no ``..``)."""
        if info.data.get("data_source") == "package":
            for rel in files.values():
                path = PurePosixPath(rel)
                if not path.parts or path.is_absolute() or ".." in path.parts or "\\" in rel:
                    raise ValueError(f"{rel!r} of a data_source: package task must be a relative path "
                                     "inside the dabench package (forward slashes, no '..')")
        return files

    @model_validator(mode="after")
    def _check(self) -> "TaskSpec":
        if self.eval_split not in self.files:
            raise ValueError(f"eval_split {self.eval_split!r} has no entry in files")
        for split in (self.fewshot_split, self.validation_split):
            if split is not None and split not in self.files:
                raise ValueError(f"split {split!r} has no entry in files")
        if self.type == "classification":
            if len(self.labels) < 2:
                raise ValueError("a classification task needs at least 2 labels")
            if len(set(self.labels)) != len(self.labels):
                raise ValueError("labels must be unique")
            missing = [lab for lab in self.labels if lab not in self.verbalizers]
            if missing:
                raise ValueError(f"labels without a verbalizer: {missing}")
            extra = [lab for lab in self.verbalizers if lab not in self.labels]
            if extra:
                raise ValueError(f"verbalizers for unknown labels: {extra}")
            if not self.label_field:
                raise ValueError("a classification task needs label_field")
        if self.type == "regression":
            if not self.label_field:
                raise ValueError("a regression task needs label_field (the gold score)")
            if self.labels or self.verbalizers:
                raise ValueError("a regression task has no labels or verbalizers")
        if self.score_range is not None and (len(self.score_range) != 2 or self.score_range[0] >= self.score_range[1]):
            raise ValueError("score_range must be [low, high] with low < high")
        ids = [t.id for t in self.templates]
        if not ids:
            raise ValueError("a task needs at least one template")
        if len(set(ids)) != len(ids):
            raise ValueError("template ids must be unique")
        return self

    def category_for(self, domain: str | None) -> str:
        """The task's category relative to an adaptation domain (None: the spec's own)."""
        if self.knowledge:
            return "knowledge"
        if domain is None:
            return self.category
        return "in-domain" if self.domain == domain else "out-of-domain"

    def template(self, template_id: str | None = None) -> Template:
        """The template named ``template_id`` (the first when None)."""
        if template_id is None:
            return self.templates[0]
        for t in self.templates:
            if t.id == template_id:
                return t
        known = ", ".join(t.id for t in self.templates)
        raise TaskError(f"task {self.name!r} has no template {template_id!r}; known: {known}")

    def generation_config(self) -> Generation:
        """The task's decoding settings (defaults when the spec names none)."""
        return self.generation if self.generation is not None else Generation()

    def spec_hash(self) -> str:
        """A short stable hash of everything that changes what is evaluated."""
        # data_source says where the files are found, not what they hold (their sha256 is recorded per run)
        payload = self.model_dump(exclude={"description", "citation", "suites", "source", "category", "download",
                                           "data_source"})
        for key, default in _HASH_OPTIONAL_DEFAULTS.items():
            if payload.get(key) == default:
                payload.pop(key, None)
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
