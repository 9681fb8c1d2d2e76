"""Readers for the real distribution formats of each task family (details in ``docs/data.md``).

Each reader returns a split file's examples in file order. A bad row raises
:class:`~dabench.errors.DataError` naming file and line, or, with ``errors=[]`` passed, is
reported in that list and skipped (``dabench data check``). ``READERS`` maps a spec's ``format``.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from dabench.data.example import Example
from dabench.errors import DataError
from dabench.taskspec import TaskSpec

# ----------------------------------------------------------------------------- helpers


def _read_text(path: Path) -> str:
    """The text of a split file; one-line errors for a missing, unreadable or empty file."""
    try:
        # utf-8-sig drops a byte-order mark (MRPC files carry one)
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a data file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise DataError(f"{path}: empty data file; pass the split file that holds the examples")
    return text


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` split on ``\\n`` only, without a trailing ``\\r``; no empty last line
    (``str.splitlines`` would also split on U+2028, U+0085 … inside real sentences)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def scalar_text(value: Any) -> str:
    """A raw value as text: strings unchanged, other JSON scalars in JSON spelling
    (``true``, ``1``), so a boolean label reads as the dataset writes it."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_MISSING = object()


def lookup(record: Any, key: str) -> Any:
    """``record[key]``, or a dotted path (``meta.template_questions.0``) into nested
    objects and lists when ``key`` itself is not a key. Returns ``_MISSING`` if absent."""
    if isinstance(record, dict) and key in record:
        return record[key]
    node = record
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


class _Collector:
    """Raise on the first bad row, or collect every bad row when ``errors`` is a list."""

    def __init__(self, errors: list[str] | None) -> None:
        self.errors = errors
        self.count = 0

    def bad(self, exc: DataError) -> None:
        """Report one bad row: raise it, or record it and go on."""
        self.count += 1
        if self.errors is None:
            raise exc
        self.errors.append(str(exc))

    @contextmanager
    def row(self) -> Iterator[None]:
        """Report a :class:`DataError` raised in the block as one bad row."""
        try:
            yield
        except DataError as exc:
            self.bad(exc)


def _example_from_record(
    record: dict[str, Any],
    spec: TaskSpec,
    split: str,
    number: int,
    where: str,
    *,
    id_field: str | None = None,
    id_columns: Sequence[str] | None = None,
    label_map: dict[str, str] | None = None,
    answers: tuple[str, ...] = (),
    extra: dict | None = None,
    missing_ok: Sequence[str] = (),
) -> Example:
    """Build an Example from a raw record (a dict of column/key -> value)."""

    def get(key: str) -> str:
        value = lookup(record, key)
        if value is _MISSING:
            if key in missing_ok:
                return ""
            raise DataError(f"{where}: missing field {key!r}")
        return scalar_text(value)

    inputs = {name: get(key) for name, key in spec.fields.items()}
    label = None
    if spec.label_field is not None:
        label = get(spec.label_field).strip()
        if label_map:
            label = label_map.get(label, label)
        if spec.type == "classification" and label not in spec.labels:
            allowed = ", ".join(spec.labels)
            raise DataError(f"{where}: label {label!r} is not one of the task's labels ({allowed})")
        if spec.type == "regression":
            _check_score(label, spec, where)
    if id_columns:
        ex_id = "-".join(get(c).strip() for c in id_columns)
    else:
        key = id_field if id_field is not None else spec.id_field
        ex_id = get(key).strip() if key else f"{split}-{number}"
    if not ex_id:
        raise DataError(f"{where}: empty example id")
    cluster = get(spec.cluster_field).strip() if spec.cluster_field else None
    return Example(id=ex_id, inputs=inputs, label=label, answers=answers, cluster=cluster, extra=extra or {})


def _check_score(label: str, spec: TaskSpec, where: str) -> None:
    try:
        value = float(label)
    except ValueError:
        raise DataError(f"{where}: score {label!r} is not a number") from None
    if value != value:  # NaN
        raise DataError(f"{where}: score is NaN")
    if spec.score_range is not None:
        lo, hi = spec.score_range
        if not lo <= value <= hi:
            raise DataError(f"{where}: score {value} outside the task's range [{lo}, {hi}]")


def _check_unique(examples: list[Example], path: Path, col: _Collector) -> list[Example]:
    """``examples`` without repeated ids (each repeat is a bad row); a file that yields no
    examples and no bad rows (a header line only) is reported as empty."""
    if not examples and not col.count:
        col.bad(DataError(f"{path}: no examples in the file, only header lines; "
                          "pass the split file that holds the examples"))
    kept: dict[str, Example] = {}
    for ex in examples:
        if ex.id in kept:
            col.bad(DataError(f"{path}: example id {ex.id!r} occurs twice; ids must be unique"))
        else:
            kept[ex.id] = ex
    return list(kept.values())


# ----------------------------------------------------------------------------- tsv


def _layouts(spec: TaskSpec) -> list[dict[str, Any]]:
    """The spec's TSV layouts. Without ``layouts`` the top-level options form the only one."""
    opts = spec.format_options
    if "layouts" in opts:
        layouts = [dict(x) for x in opts["layouts"]]
        if not layouts:
            raise DataError(f"task {spec.name}: format_options.layouts is empty")
        return layouts
    header = opts.get("header", True)
    return [{**opts, "header": "any" if header is True else header}]


def _pick_layout(first: list[str], layouts: list[dict[str, Any]], spec: TaskSpec, path: Path) -> dict[str, Any]:
    names = [c.strip() for c in first]
    # a layout whose header is exactly the first line, else one that takes any header, else a headerless one
    for fits in (lambda h: isinstance(h, list) and [str(x) for x in h] == names, lambda h: h == "any",
                 lambda h: h is False):
        for lay in layouts:
            if fits(lay.get("header")):
                return lay
    expected = " | ".join("\t".join(lay["header"]) for lay in layouts if isinstance(lay.get("header"), list))
    raise DataError(f"{path}:1: unrecognised header {first!r} for task {spec.name}; expected one of: {expected}")


def _tsv_rows(path: Path, text: str, quoting: str, spec: TaskSpec) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each row."""
    if quoting == "csv":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar='"', strict=True)
        start = 1
        try:
            for row in reader:
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: malformed quoting ({exc})") from None
    elif quoting == "none":
        for line_no, line in enumerate(split_lines(text), start=1):
            yield line_no, line.split("\t")
    else:
        raise DataError(f"task {spec.name}: format_options quoting must be 'none' or 'csv', not {quoting!r}")


def read_tsv(path: Path, spec: TaskSpec, split: str, errors: list[str] | None = None) -> list[Example]:
    """GLUE-style tab-separated files.

    Options (top level, or per entry of ``layouts``): ``header`` — ``true``/``any`` (the first
    line names the columns), a list of column names (the layout of a file whose first line is
    exactly that), or ``false`` (``columns`` names them); ``quoting`` — ``none`` (GLUE) or
    ``csv``; ``min_fields`` (default: number of columns); ``extra_fields`` — ``error``
    (default) or ``ignore`` (STS-B's 7 or 9 fields); ``id_field`` / ``id_columns`` (joined
    with ``-``); ``label_map`` — raw label -> task label.
    """
    col = _Collector(errors)
    text = _read_text(path)
    layout = _pick_layout(split_lines(text)[0].split("\t"), _layouts(spec), spec, path)
    columns: list[str] | None = None if layout.get("header", "any") is not False else [str(c) for c in layout["columns"]]
    extra_ok = layout.get("extra_fields", "error") == "ignore"
    examples: list[Example] = []
    number = 0
    for line_no, row in _tsv_rows(path, text, layout.get("quoting", "none"), spec):
        if columns is None:
            columns = [c.strip() for c in row]
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        where = f"{path}:{line_no}"
        min_fields = int(layout.get("min_fields", len(columns)))
        with col.row():
            if len(row) < min_fields:
                raise DataError(f"{where}: expected {min_fields} tab-separated fields, found {len(row)}")
            if len(row) > len(columns) and not extra_ok:
                raise DataError(f"{where}: expected {len(columns)} tab-separated fields, found {len(row)} "
                                "(a tab inside a field, or a file with quoting?)")
            number += 1
            examples.append(_example_from_record(
                dict(zip(columns, row)), spec, split, number, where,
                id_field=layout.get("id_field"), id_columns=layout.get("id_columns"), label_map=layout.get("label_map"),
            ))
    return _check_unique(examples, path, col)


# ----------------------------------------------------------------------------- jsonl


def _json_records(path: Path, col: _Collector) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(record number, ``path:line``, object) of each JSON object line; bad lines go to ``col``."""
    number = 0
    for line_no, line in enumerate(split_lines(_read_text(path)), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            col.bad(DataError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            col.bad(DataError(f"{where}: expected a JSON object, found {type(record).__name__}"))
            continue
        number += 1
        yield number, where, record


def read_jsonl(path: Path, spec: TaskSpec, split: str, errors: list[str] | None = None) -> list[Example]:
    """JSON Lines, one object per line (DSP task files such as ChemProt).

    Field keys may be dotted paths into nested objects (``meta.question``). Options:
    ``label_map`` — raw label -> task label; ``answers_field`` — a key holding one gold
    string or a list of them (generative tasks).
    """
    col = _Collector(errors)
    opts = spec.format_options
    examples: list[Example] = []
    for number, where, record in _json_records(path, col):
        with col.row():
            answers: tuple[str, ...] = ()
            if opts.get("answers_field"):
                raw = lookup(record, opts["answers_field"])
                if raw is _MISSING:
                    raise DataError(f"{where}: missing field {opts['answers_field']!r}")
                answers = _unique_answers(scalar_text(a) for a in (raw if isinstance(raw, list) else [raw]))
            examples.append(_example_from_record(record, spec, split, number, where, label_map=opts.get("label_map"),
                                                 answers=answers))
    return _check_unique(examples, path, col)


def _unique_answers(values: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty answers without repeats, in order of first appearance (KILT's
    ``get_gold_answers`` takes the same set)."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


# ----------------------------------------------------------------------------- rct


def read_rct(path: Path, spec: TaskSpec, split: str, errors: list[str] | None = None) -> list[Example]:
    """PubMed RCT: ``###<abstract id>`` lines, each followed by ``LABEL<TAB>sentence`` lines
    (ids ``<abstract id>-<position>``), or JSON Lines (first line starts with ``{``) with
    ``label`` and ``sentence``/``text``. There an ``abstract_id`` key (top level or in
    ``metadata``) gives the cluster; without it a new abstract starts where a ``CONCLUSIONS``
    sentence is followed by another label (clusters ``inferred-<n>``, ids ``<split>-<n>``).
    The spec sees records with keys ``id``, ``abstract_id``, ``position``, ``sentence``, ``label``.
    """
    col = _Collector(errors)
    lines = split_lines(_read_text(path))
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("{"):
        examples = _read_rct_jsonl(path, spec, split, col)
    else:
        examples = _read_rct_txt(path, lines, spec, split, col)
    return _check_unique(examples, path, col)


def _read_rct_txt(path: Path, lines: list[str], spec: TaskSpec, split: str, col: _Collector) -> list[Example]:
    examples: list[Example] = []
    abstract: str | None = None
    opened: dict[str, int] = {}
    skipping = False
    position = 0
    number = 0
    for line_no, line in enumerate(lines, start=1):
        where = f"{path}:{line_no}"
        if not line.strip():
            continue
        if line.startswith("###"):
            abstract, skipping = line[3:].strip(), True
            position = 0
            with col.row():
                if not abstract:
                    raise DataError(f"{where}: '###' line without an abstract id")
                if abstract in opened:
                    raise DataError(f"{where}: abstract id {abstract!r} appears twice "
                                    f"(first at line {opened[abstract]})")
                opened[abstract] = line_no
                skipping = False
            continue
        if skipping:
            continue  # sentences of an abstract already reported as bad
        with col.row():
            if abstract is None:
                raise DataError(f"{where}: sentence line before any '###<abstract id>' line")
            if "\t" not in line:
                raise DataError(f"{where}: expected LABEL<TAB>sentence")
            label, sentence = line.split("\t", 1)
            position += 1
            number += 1
            record = {"id": f"{abstract}-{position}", "abstract_id": abstract, "position": position,
                      "sentence": sentence, "label": label}
            examples.append(_example_from_record(record, spec, split, number, where))
    return examples


def _read_rct_jsonl(path: Path, spec: TaskSpec, split: str, col: _Collector) -> list[Example]:
    examples: list[Example] = []
    group = 0
    prev_label: str | None = None
    last_given: str | None = None
    position = 0
    for number, where, raw in _json_records(path, col):
        with col.row():
            label = scalar_text(raw.get("label", "")).strip()
            sentence = raw.get("sentence", raw.get("text"))
            if sentence is None:
                raise DataError(f"{where}: missing field 'sentence' (or 'text')")
            given = raw.get("abstract_id", lookup(raw, "metadata.abstract_id"))
            if given is not _MISSING and given is not None:
                abstract = scalar_text(given)
                position = position + 1 if abstract == last_given else 1
                last_given = abstract
            else:
                if prev_label is None or (prev_label == "CONCLUSIONS" and label != "CONCLUSIONS"):
                    group += 1
                    position = 0
                position += 1
                abstract = f"inferred-{group}"
            prev_label = label
            record = {"id": f"{split}-{number}", "abstract_id": abstract, "position": position,
                      "sentence": scalar_text(sentence).rstrip("\r\n"), "label": label}
            examples.append(_example_from_record(record, spec, split, number, where))
    return examples


# ----------------------------------------------------------------------------- kilt


def kilt_prediction(record: dict[str, Any]) -> dict[str, Any]:
    """The prediction held by a KILT guess record: the first output's answer (None when no
    output has one) and the provenance of the first output that has provenance."""
    outputs = record.get("output")
    dicts = [o for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
    answer = next((o["answer"] for o in dicts if "answer" in o), None)
    provenance = next((o["provenance"] for o in dicts if "provenance" in o), None)
    return {"answer": None if answer is None else scalar_text(answer), "provenance": provenance}


def read_kilt(path: Path, spec: TaskSpec, split: str, errors: list[str] | None = None) -> list[Example]:
    """KILT JSON Lines: ``id`` (used as ``str(id).strip()``, as KILT's scorer does), ``input``
    (absent in TriviaQA: read as ``""``, flagged ``extra["missing_input"]``), ``output``
    (answers and/or provenance; kept raw in ``extra["output"]`` for the provenance metrics).
    Field keys may be dotted paths (``output.0.answer``). With ``input_parts`` (and
    ``input_sep``, default ``" [SEP] "``) the input is split into named parts (T-REx's
    ``subject [SEP] relation``).
    """
    col = _Collector(errors)
    opts = spec.format_options
    parts = opts.get("input_parts")
    sep = opts.get("input_sep", " [SEP] ")
    examples: list[Example] = []
    for number, where, record in _json_records(path, col):
        with col.row():
            if "id" not in record:
                raise DataError(f"{where}: missing field 'id'")
            record = {**record, "id": scalar_text(record["id"]).strip()}
            outputs = record.get("output", [])
            if not isinstance(outputs, list):
                raise DataError(f"{where}: 'output' must be a list")
            missing_input = "input" not in record
            if missing_input:
                record["input"] = ""
            elif not isinstance(record["input"], str):
                raise DataError(f"{where}: 'input' must be a string")
            if parts:
                pieces = record["input"].split(sep)
                if not missing_input and len(pieces) != len(parts):
                    raise DataError(f"{where}: input does not split into {len(parts)} parts at {sep!r}")
                for name, piece in zip(parts, pieces + [""] * len(parts)):
                    record[name] = piece.strip()
            answers = _unique_answers(scalar_text(o["answer"]) for o in outputs
                                      if isinstance(o, dict) and o.get("answer") is not None)
            extra: dict[str, Any] = {"output": outputs}
            if missing_input:
                extra["missing_input"] = True
            examples.append(_example_from_record(
                record, spec, split, number, where, id_field="id", answers=answers, extra=extra,
                missing_ok=("input",) + tuple(parts or ()),
            ))
    return _check_unique(examples, path, col)


#: ``format`` name -> ``reader(path, spec, split, errors=None)``
READERS: dict[str, Callable[..., list[Example]]] = {
    "tsv": read_tsv,
    "jsonl": read_jsonl,
    "rct": read_rct,
    "kilt": read_kilt,
}
