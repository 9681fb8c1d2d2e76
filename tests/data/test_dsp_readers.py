"""DSP JSONL and PubMed RCT files: counts and label distributions equal the raw files'."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from dabench.data import read_examples
from dabench.data.readers import read_rct
from dabench.errors import DataError
from dabench.registry import get_registry


@pytest.mark.parametrize("split, n", [("train", 2000), ("validation", 2427), ("test", 500)])
def test_chemprot_counts_and_labels(shared_data, split, n):
    spec = get_registry().get("chemprot")
    path = shared_data / spec.files[split]
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    examples = read_examples(spec, path, split)
    assert len(raw) == len(examples) == n
    assert Counter(ex.label for ex in examples) == Counter(r["label"] for r in raw)
    assert [ex.inputs["text"] for ex in examples] == [r["text"] for r in raw]
    assert examples[0].id == f"{split}-1"


def test_chemprot_label_vocabulary_is_the_13_labels_of_the_full_train_file(shared_data):
    spec = get_registry().get("chemprot")
    assert len(spec.labels) == 13
    dev = read_examples(spec, shared_data / spec.files["validation"], "validation")
    assert "AGONIST-INHIBITOR" not in {ex.label for ex in dev}  # absent in dev, still a class


def test_dsp_non_string_labels_keep_json_spelling(tmp_path):
    spec = get_registry().get("hyperpartisan")
    f = tmp_path / "test.jsonl"
    f.write_text('{"text": "a", "label": true}\n{"text": "b", "label": "false"}\n', encoding="utf-8")
    assert [ex.label for ex in read_examples(spec, f, "test")] == ["true", "false"]
    imdb = get_registry().get("imdb")
    f.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n', encoding="utf-8")
    assert [ex.label for ex in read_examples(imdb, f, "test")] == ["1", "0"]


def test_malformed_json_line_is_named(tmp_path):
    spec = get_registry().get("chemprot")
    f = tmp_path / "t.txt"
    f.write_text('{"text": "a", "label": "INHIBITOR"}\n{"text": "b", "label": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"t.txt:2: malformed JSON"):
        read_examples(spec, f, "test")


RCT_TXT = """###24293578
OBJECTIVE\tTo investigate the efficacy of 6 weeks of daily low-dose oral prednisolone .
METHODS\tA total of 125 patients were randomized .
RESULTS\tPain was reduced significantly .
CONCLUSIONS\tLow-dose prednisolone had short-term benefits .

###24854809
BACKGROUND\tEmotional eating is associated with overeating .
METHODS\tWe enrolled 40 adults .
METHODS\tParticipants completed a questionnaire .
CONCLUSIONS\tThe intervention helped .

"""


def _raw_rct(text: str) -> list[tuple[str, str]]:
    """(abstract id, label) per sentence, parsed directly."""
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("###"):
            current = line[3:]
        elif line.strip():
            out.append((current, line.split("\t")[0]))
    return out


def test_rct_hash_format_ids_clusters_and_labels(tmp_path):
    spec = get_registry().get("rct")
    f = tmp_path / "test.txt"
    f.write_text(RCT_TXT, encoding="utf-8")
    examples = read_examples(spec, f, "test")
    raw = _raw_rct(RCT_TXT)
    assert len(examples) == len(raw) == 8
    assert [ex.label for ex in examples] == [lab for _, lab in raw]
    assert [ex.cluster for ex in examples] == [a for a, _ in raw]
    assert [ex.id for ex in examples[:5]] == ["24293578-1", "24293578-2", "24293578-3", "24293578-4", "24854809-1"]
    assert examples[1].inputs == {"sentence": "A total of 125 patients were randomized ."}
    assert spec.cluster_field == "abstract_id"


def test_rct_bad_lines_collected(tmp_path):
    spec = get_registry().get("rct")
    f = tmp_path / "dev.txt"
    f.write_text("METHODS\torphan sentence\n###1\nMETHODS no tab here\nMETHOD\ttypo label\nRESULTS\tok\n###1\nRESULTS\tdup\n",
                 encoding="utf-8")
    errors: list[str] = []
    examples = read_rct(f, spec, "validation", errors=errors)
    assert [ex.id for ex in examples] == ["1-2"]
    assert len(errors) == 4
    assert "dev.txt:1: sentence line before any '###" in errors[0]
    assert "dev.txt:3: expected LABEL<TAB>sentence" in errors[1]
    assert "dev.txt:4: label 'METHOD'" in errors[2]
    assert "dev.txt:6: abstract id '1' appears twice (first at line 2)" in errors[3]
    with pytest.raises(DataError, match="dev.txt:1"):
        read_examples(spec, f, "validation")


def test_rct_shared_jsonl_fixture(shared_data):
    """rct/fixtures.json: 31 sentences of 3 consecutive abstracts, no abstract ids."""
    spec = get_registry().get("rct")
    path = shared_data / "rct" / "fixtures.json"
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    examples = read_examples(spec, path, "test")
    assert len(examples) == len(raw) == 31
    assert Counter(ex.label for ex in examples) == Counter(r["label"] for r in raw)
    assert [ex.inputs["sentence"] for ex in examples] == [r["sentence"].rstrip("\n") for r in raw]
    # abstracts inferred from the section order: 11, 7 and 13 sentences
    assert Counter(ex.cluster for ex in examples) == {"inferred-1": 11, "inferred-2": 7, "inferred-3": 13}
    assert examples[11].label == "OBJECTIVE" and examples[11].cluster == "inferred-2"


def test_generic_generative_jsonl_with_answers_field_and_dotted_paths(tmp_path):
    from dabench.taskspec import TaskSpec

    spec = TaskSpec.model_validate({
        "name": "toyqa", "format": "jsonl", "type": "generation", "files": {"test": "t.jsonl"}, "eval_split": "test",
        "fields": {"question": "meta.question"}, "id_field": "qid", "format_options": {"answers_field": "golds"},
        "templates": [{"id": "qa", "text": "Q: {question}\nA:"}], "metric": "em",
    })
    f = tmp_path / "t.jsonl"
    f.write_text('{"qid": 7, "meta": {"question": "Capital of France?"}, "golds": [" Paris ", "paris", "Paris"]}\n'
                 '{"qid": 8, "meta": {"question": "2+2?"}, "golds": 4}\n', encoding="utf-8")
    examples = read_examples(spec, f, "test")
    assert [(ex.id, ex.inputs["question"], ex.answers) for ex in examples] == [
        ("7", "Capital of France?", ("Paris", "paris")), ("8", "2+2?", ("4",))]
    f.write_text('{"qid": 9, "meta": {}, "golds": []}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"t.jsonl:1: missing field 'meta.question'"):
        read_examples(spec, f, "test")
