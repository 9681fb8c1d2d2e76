"""The one predictions-file reader (``dabench score`` and ``dabench stats``)."""

from __future__ import annotations

import pytest

from dabench.data.predictions import LINE, read_predictions
from dabench.errors import DataError


def test_records_keyed_by_id_text_with_line_numbers(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"id": 1, "prediction": "a"}\r\n\r\n{"id": " b ", "prediction": null}\r\n')
    recs = read_predictions(f)
    assert list(recs) == ["1", "b"] and recs["1"][LINE] == 1 and recs["b"][LINE] == 3
    assert recs["b"]["prediction"] is None


def test_kilt_guess_records_get_their_prediction(tmp_path):
    f = tmp_path / "g.jsonl"
    f.write_text('{"id": "q", "output": [{"answer": "x"}, {"provenance": [{"wikipedia_id": "7"}]}]}\n')
    assert read_predictions(f, kilt=True)["q"]["prediction"] == {"answer": "x", "provenance": [{"wikipedia_id": "7"}]}
    with pytest.raises(DataError, match="missing field.s. prediction$"):
        read_predictions(f)


@pytest.mark.parametrize("content, needle", [
    (b"", "no records"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b"[1]\n", "line 1: expected a JSON object with fields id, prediction, reference"),
    (b'{"id": "a", "prediction": 1}\n', "line 1: missing field(s) reference"),
    (b'{"id": "a"\n', "line 1: not valid JSON"),
    (b'{"id": "a", "prediction": 1, "reference": 1}\n{"id": "a", "prediction": 0, "reference": 1}\n',
     "line 2: id 'a' is repeated (first at line 1); a duplicate id"),
])
def test_bad_files_are_one_line_errors_naming_file_and_line(tmp_path, content, needle):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_predictions(f, ("id", "prediction", "reference"))
    assert needle in str(info.value) and str(f) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match="no such file"):
        read_predictions(tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="is a directory"):
        read_predictions(tmp_path)
