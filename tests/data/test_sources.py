"""Data sources: local dir, checksummed cache, original URLs and the hub (network faked).

``dabench.data.load_split`` is the one reader of every command, so what these tests show holds for
``compare`` as for ``data check`` and ``score``."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from dabench.data import load_split, sources
from dabench.errors import DataError
from dabench.registry import get_registry


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DABENCH_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("DABENCH_DOWNLOAD", "DABENCH_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "DABENCH_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)


class _FakeWeb:
    """Serves bytes by URL; records the URLs asked for."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    def __call__(self, url, timeout=None):
        self.asked.append(url)
        if url not in self.pages:
            raise OSError(f"no route to {url}")
        return io.BytesIO(self.pages[url])


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_missing_file_offline_is_one_line_naming_file_and_source(tmp_path):
    spec = get_registry().get("sst2")
    with pytest.raises(DataError) as info:
        sources.locate_split(spec, "validation", tmp_path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(tmp_path / "glue/sst2/dev.tsv") in msg
    assert "SST-2.zip" in msg and "--download" in msg
    with pytest.raises(DataError, match=r"expected <data-dir>/glue/sst2/dev.tsv \(no data dir set"):
        sources.locate_split(spec, "validation", None)


def test_local_file_wins_and_override(shared_data, tmp_path):
    spec = get_registry().get("sst2")
    path, reading = sources.locate_split(spec, "validation", shared_data)
    assert path == shared_data / "glue/sst2/dev.tsv" and reading is spec
    other = tmp_path / "x.tsv"
    other.write_text("sentence\tlabel\na\t1\n", encoding="utf-8")
    examples, digest = load_split(spec, "validation", shared_data, {"validation": str(other)})
    assert len(examples) == 1 and len(digest) == 64


def test_zip_member_download_is_cached_and_checked(shared_data, monkeypatch):
    spec = get_registry().get("sst2")
    dev = (shared_data / "glue/sst2/dev.tsv").read_bytes()
    web = _FakeWeb({"https://dl.fbaipublicfiles.com/glue/data/SST-2.zip": _zip({"SST-2/dev.tsv": dev})})
    monkeypatch.setattr(sources, "URL_OPENER", web)
    examples, digest = load_split(spec, "validation", None, download=True)
    assert len(examples) == 872 and len(web.asked) == 1
    cached = sources.cached_path(spec, "validation")
    assert cached.read_bytes() == dev
    manifest = json.loads((sources.cache_root() / "manifest.json").read_text())
    assert manifest["data/glue/sst2/dev.tsv"]["origin"].endswith("SST-2.zip#SST-2/dev.tsv")
    # a second load uses the cache, without the network and without --download
    examples2, digest2 = load_split(spec, "validation", None)
    assert digest2 == digest and len(web.asked) == 1
    # a corrupted cached copy is refused
    cached.write_bytes(dev[:-10])
    with pytest.raises(DataError, match="cached file .* has sha256"):
        load_split(spec, "validation", None)


def test_plain_url_download_and_pinned_checksum(shared_data, monkeypatch):
    spec = get_registry().get("chemprot")
    test = (shared_data / "chemprot/test.txt").read_bytes()
    url = spec.download.urls["test"]
    monkeypatch.setattr(sources, "URL_OPENER", _FakeWeb({url: test}))
    examples, _ = load_split(spec, "test", None, download=True)
    assert len(examples) == 500
    sources.cached_path(spec, "test").unlink()
    pinned = spec.model_copy(update={"download": spec.download.model_copy(update={"sha256": {"test": "0" * 64}})})
    with pytest.raises(DataError, match="does not match the task's pinned"):
        load_split(pinned, "test", None, download=True)
    assert not sources.cached_path(spec, "test").exists()


def test_network_failure_and_offline_variables(monkeypatch, tmp_path):
    spec = get_registry().get("chemprot")
    monkeypatch.setattr(sources, "URL_OPENER", _FakeWeb({}))
    with pytest.raises(DataError) as info:
        load_split(spec, "test", tmp_path, download=True)
    assert "could not download from https://allennlp" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    web = _FakeWeb({})
    monkeypatch.setattr(sources, "URL_OPENER", web)
    with pytest.raises(DataError, match="downloads are disabled"):
        load_split(spec, "test", tmp_path, download=True)
    assert web.asked == []


class _FakeDataset(list):
    def __init__(self, rows, features):
        super().__init__(rows)
        self.features = features


class _ClassLabel:
    def __init__(self, names):
        self.names = names


def test_hub_export_with_class_names(monkeypatch):
    spec = get_registry().get("qnli")
    rows = [{"question": "q1?", "sentence": "s1", "label": 0, "idx": 0},
            {"question": "q2?", "sentence": "s2", "label": 1, "idx": 1}]
    calls = []

    def loader(path, name, split):
        calls.append((path, name, split))
        return _FakeDataset(rows, {"label": _ClassLabel(["entailment", "not_entailment"])})

    monkeypatch.setattr(sources, "HF_LOADER", loader)
    monkeypatch.setattr(sources, "URL_OPENER", _FakeWeb({}))  # the zip URL fails → hub
    examples, _ = load_split(spec, "validation", None, download=True)
    assert calls == [("nyu-mll/glue", "qnli", "validation")]
    assert [(ex.id, ex.label, ex.inputs["question"]) for ex in examples] == [("0", "entailment", "q1?"), ("1", "not_entailment", "q2?")]
    # cached export is used afterwards
    again, _ = load_split(spec, "validation", None)
    assert [ex.id for ex in again] == ["0", "1"]


def test_hub_kilt_rows_get_kilt_shape(monkeypatch, shared_data):
    spec = get_registry().get("nq")
    raw = [json.loads(line) for line in (shared_data / "kilt/nq-dev-kilt.jsonl").read_text().split("\n") if line.strip()]
    padded = []
    for r in raw:
        outs = [{"answer": o.get("answer", ""), "meta": {}, "provenance": [dict(p, section=p.get("section")) for p in o.get("provenance", [])]}
                for o in r["output"]]
        padded.append({"id": r["id"], "input": r["input"], "meta": {}, "output": outs})
    monkeypatch.setattr(sources, "HF_LOADER", lambda path, name, split: _FakeDataset(padded, {}))
    monkeypatch.setattr(sources, "URL_OPENER", _FakeWeb({}))
    examples, _ = load_split(spec, "validation", None, download=True)
    direct = [o for o in examples[0].extra["output"]]
    assert [("answer" in o, "provenance" in o) for o in direct] == [("answer" in o, "provenance" in o) for o in raw[0]["output"]]
    assert [ex.answers for ex in examples] == [tuple(dict.fromkeys(o["answer"].strip() for o in r["output"] if o.get("answer"))) for r in raw]


def test_compare_and_intrinsic_read_the_checked_cache(shared_data):
    """``compare`` plans (prompting and intrinsic documents) find a split in the cache, checked like ``data check``."""
    from dabench.intrinsic.documents import load_documents
    from dabench.intrinsic.spec import IntrinsicSpec
    from dabench.runner import plan_task

    spec = get_registry().get("sst2")
    cached = sources.cached_path(spec, "validation")
    cached.parent.mkdir(parents=True)
    cached.write_bytes((shared_data / "glue/sst2/dev.tsv").read_bytes())
    assert len(plan_task(spec, None).examples) == 872
    notes = IntrinsicSpec(name="notes", files={"test": "glue/sst2/dev.tsv"}, format="lines",
                          download={"sha256": {"test": "0" * 64}})
    with pytest.raises(DataError, match="cached file .* has sha256"):
        load_documents(notes, None)
