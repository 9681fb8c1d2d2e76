"""The documents of an intrinsic task, with stable ids, read before any model is loaded."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from dabench.data import file_sha256, load_split
from dabench.data.readers import split_lines
from dabench.data.sources import locate_file
from dabench.errors import DataError, TaskError
from dabench.intrinsic.spec import IntrinsicSpec
from dabench.registry import get_registry


@dataclass(frozen=True)
class Document:
    """One scored document: a stable id and its cleaned text."""

    id: str
    text: str


@dataclass
class DocumentSet:
    """The documents of one intrinsic task and the hash of the file they came from."""

    spec: IntrinsicSpec
    documents: list[Document]
    data_hash: str
    source: str  #: e.g. ``chemprot:test`` or the file path

    @property
    def texts(self) -> list[str]:
        return [d.text for d in self.documents]


def clean_text(text: str, remove: Sequence[str]) -> str:
    """``text`` without the ``remove`` substrings (deleted in the order given), whitespace
    collapsed to single spaces."""
    for r in remove:
        text = text.replace(r, "")
    return " ".join(text.split())


def load_documents(
    spec: IntrinsicSpec,
    data_dir: Path | None,
    *,
    limit: int | None = None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
    tasks_dirs: Sequence[str | os.PathLike] = (),
) -> DocumentSet:
    """Read, clean, deduplicate and cut (``limit``: the first N documents) an intrinsic task's text."""
    if limit is not None and limit <= 0:
        raise TaskError("--limit must be a positive number of documents")
    if spec.text_of is not None:
        task = get_registry([Path(d) for d in tasks_dirs]).get(spec.text_of.task)
        split = spec.text_of.split or task.eval_split
        fields = spec.text_of.fields or list(task.fields)
        unknown = [f for f in fields if f not in task.fields]
        if unknown:
            raise TaskError(f"intrinsic task {spec.name!r}: text_of.fields {unknown} are not input fields of "
                            f"task {task.name!r} ({', '.join(task.fields)})")
        examples, data_hash = load_split(task, split, data_dir, overrides)
        raw = [(ex.id, "\n".join(ex.inputs[f] for f in fields)) for ex in examples]
        source = f"{task.name}:{split}"
    else:
        path = locate_file(spec, spec.split, data_dir, overrides)
        raw = _read_file(spec, path)
        data_hash, source = file_sha256(path), str(path)
    docs: list[Document] = []
    seen: set[str] = set()
    for doc_id, text in raw:
        cleaned = clean_text(text, spec.remove)
        if len(cleaned) < spec.min_chars or (spec.dedupe and cleaned in seen):
            continue
        seen.add(cleaned)
        docs.append(Document(doc_id, cleaned))
    if limit is not None:
        docs = docs[:limit]
    if not docs:
        raise DataError(f"intrinsic task {spec.name!r}: {source} holds no documents to score")
    return DocumentSet(spec, docs, data_hash, source)


def _read_file(spec: IntrinsicSpec, path: Path) -> list[tuple[str, str]]:
    try:
        lines = split_lines(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    out = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if spec.format == "lines":
            out.append((f"{spec.split}-{no}", line))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{no}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get(spec.text_field), str):
            raise DataError(f"{path}:{no}: missing string field {spec.text_field!r}")
        out.append((str(record.get("id", f"{spec.split}-{no}")), record[spec.text_field]))
    return out
