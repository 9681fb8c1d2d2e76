"""Where a task's split file comes from (every command's locator): order of resolution (:func:`locate_file`):

1. ``--data-file SPLIT=PATH``; then, for ``data_source: package``, the file shipped in dabench;
2. ``<data dir>/<path in the spec's files>`` (``--data-dir`` or ``DABENCH_DATA_DIR``);
3. the cache (``DABENCH_CACHE_DIR``, default ``~/.cache/dabench``; ``data/`` mirrors the data
   dir, ``hf/`` holds hub exports), each file checked against the sha256 that ``manifest.json``
   recorded when it was fetched (and the spec's pinned ``download.sha256``);
4. if downloading is allowed (``--download``/``DABENCH_DOWNLOAD=1``, no ``*_OFFLINE`` variable):
   the spec's ``download.urls`` (a zip member with ``archive_member``), else the hub.

Otherwise a one-line :class:`~dabench.errors.DataError` says which file was expected and how to get it:
no network is reached unless asked.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping

from dabench.data.packaged import is_packaged, packaged_path
from dabench.errors import DataError, TaskError
from dabench.taskspec import DataFiles, HFSource, TaskSpec

ENV_DATA_DIR = "DABENCH_DATA_DIR"
ENV_CACHE_DIR = "DABENCH_CACHE_DIR"
ENV_DOWNLOAD = "DABENCH_DOWNLOAD"
OFFLINE_ENVS = ("DABENCH_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
#: seconds before a download attempt gives up
TIMEOUT = 60

#: ``opener(url, timeout=...)`` returning a readable binary response (replaced in tests)
URL_OPENER: Callable[..., Any] = urllib.request.urlopen


def _hf_load(path: str, name: str | None, split: str) -> Any:  # pragma: no cover - needs the network
    try:
        import datasets
    except ImportError:
        raise DataError("reading from the Hugging Face hub needs the `datasets` package (pip install datasets)") from None
    return datasets.load_dataset(path, name, split=split)


#: ``loader(path, name, split)`` returning an iterable of row dicts with ``.features`` (replaced in tests)
HF_LOADER: Callable[[str, str | None, str], Any] = _hf_load


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def resolve_data_dir(value: str | os.PathLike | None) -> Path | None:
    """The data dir from an explicit value or ``DABENCH_DATA_DIR``; None if neither is set."""
    raw = value if value is not None else os.environ.get(ENV_DATA_DIR)
    if raw is None or str(raw) == "":
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise DataError(f"data dir {path} does not exist or is not a directory (--data-dir / {ENV_DATA_DIR})")
    return path.resolve()  # absolute, so a stored comparison replays from any folder


def override_path(split: str, value: str | os.PathLike) -> Path:
    """The file a ``--data-file SPLIT=PATH`` override names, checked to be a file (a directory
    is refused as such, not as "not found")."""
    path = Path(value).expanduser()
    if path.is_dir():
        raise DataError(f"--data-file {split}={path}: is a directory; pass the split's data file, not a folder")
    if not path.is_file():
        raise DataError(f"--data-file {split}={path}: file not found")
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def cache_root() -> Path:
    """The cache dir (``DABENCH_CACHE_DIR`` or ``~/.cache/dabench``)."""
    raw = os.environ.get(ENV_CACHE_DIR)
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "dabench"


def offline() -> bool:
    """True when an environment variable forbids network access."""
    return any(_truthy(os.environ.get(v)) for v in OFFLINE_ENVS)


def download_allowed(download: bool | None) -> bool:
    """Whether a missing file may be fetched: the explicit flag, else ``DABENCH_DOWNLOAD``."""
    return not offline() and (bool(download) if download is not None else _truthy(os.environ.get(ENV_DOWNLOAD)))


def cached_path(spec: DataFiles, split: str) -> Path:
    """Where a fetched copy of the split file lives (mirrors the data-dir layout)."""
    return cache_root() / "data" / spec.files[split]


def hf_export_path(spec: DataFiles, split: str) -> Path:
    """Where the export of the split from the hub lives."""
    return cache_root() / "hf" / spec.name / f"{split}.jsonl"


# ----------------------------------------------------------------------------- manifest


def _manifest_path() -> Path:
    return cache_root() / "manifest.json"


def _read_manifest() -> dict[str, Any]:
    path = _manifest_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise DataError(f"{path}: unreadable cache manifest; delete it and the cached files to fetch them again") from None
    return data if isinstance(data, dict) else {}


def _record(path: Path, origin: str) -> str:
    digest = file_sha256(path)
    manifest = _read_manifest()
    manifest[str(path.relative_to(cache_root()))] = {
        "sha256": digest,
        "origin": origin,
        "fetched": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    tmp = _manifest_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, _manifest_path())
    return digest


def _verify_cached(spec: DataFiles, split: str, path: Path) -> None:
    """Check a cached file against the manifest and the spec's pinned digest."""
    entry = _read_manifest().get(str(path.relative_to(cache_root())))
    pinned = spec.download.sha256.get(split) if spec.download else None
    if entry is None and pinned is None:
        return  # placed there by the user, not fetched: nothing to check against
    digest = file_sha256(path)
    expected = pinned if pinned is not None else (entry or {})["sha256"]
    if digest != expected:
        raise DataError(f"cached file {path} has sha256 {digest[:12]}…, expected {expected[:12]}…; "
                        "delete it and fetch it again (--download)")


# ----------------------------------------------------------------------------- resolution


def how_to_get(spec: DataFiles, split: str) -> str:
    """One phrase telling how to obtain the split file."""
    how = spec.source.get("instructions") or spec.source.get("url") or "see docs/data.md"
    where = []
    if spec.download and split in spec.download.urls:
        where.append(spec.download.urls[split])
    if spec.download and spec.download.hf and split in spec.download.hf.splits:
        hf = spec.download.hf
        where.append(f"hf:{hf.path}" + (f"/{hf.name}" if hf.name else "") + f" [{hf.splits[split]}]")
    if where:
        how += f"; or pass --download (or set {ENV_DOWNLOAD}=1) to fetch it from {' or '.join(where)}"
    return how


def locate_file(
    spec: DataFiles,
    split: str,
    data_dir: Path | None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
    *,
    download: bool | None = None,
) -> Path:
    """The file holding ``split``, found in the order the module docstring gives."""
    if overrides and split in overrides:
        return override_path(split, overrides[split])
    if split not in spec.files:
        known = ", ".join(spec.files)
        raise TaskError(f"task {spec.name!r} has no split {split!r}; known splits: {known}")
    if is_packaged(spec):
        return packaged_path(spec, split)
    rel = spec.files[split]
    if data_dir is not None and (data_dir / rel).is_file():
        return data_dir / rel
    for cached in (cached_path(spec, split), hf_export_path(spec, split) if _hub(spec) else None):
        if cached is not None and cached.is_file():
            _verify_cached(spec, split, cached)
            return cached
    expected = str(data_dir / rel) if data_dir is not None else f"<data-dir>/{rel}"
    if not download_allowed(download):
        extra = "" if data_dir is not None else f" (no data dir set: pass --data-dir DIR or set {ENV_DATA_DIR})"
        blocked = " downloads are disabled by an *_OFFLINE variable;" if offline() and download else ""
        raise DataError(
            f"task {spec.name!r} split {split!r}: expected {expected}{extra};{blocked} to get it: {how_to_get(spec, split)}"
        )
    return fetch_split(spec, split, expected=expected)


def locate_split(
    spec: TaskSpec,
    split: str,
    data_dir: Path | None,
    overrides: Mapping[str, str | os.PathLike] | None = None,
    *,
    download: bool | None = None,
) -> tuple[Path, TaskSpec]:
    """The file holding ``split`` (:func:`locate_file`) and the spec to read it with (a hub export is JSONL)."""
    path = locate_file(spec, split, data_dir, overrides, download=download)
    hub = _hub(spec)
    if hub is not None and path == hf_export_path(spec, split):
        return path, hf_reading_spec(spec, hub)
    return path, spec


def _hub(spec: DataFiles) -> HFSource | None:
    return spec.download.hf if spec.download else None


def fetch_split(spec: DataFiles, split: str, *, expected: str = "") -> Path:
    """Fetch the split from its original URL, else from the hub; one-line error on failure."""
    dl = spec.download
    failures = []
    if dl and split in dl.urls:
        try:
            return _fetch_url(spec, split)
        except DataError:
            raise
        except Exception as exc:  # network errors come in many types
            failures.append(f"{dl.urls[split]} ({type(exc).__name__}: {exc})")
    if dl and dl.hf and split in dl.hf.splits:
        try:
            return _fetch_hf(spec, split, dl.hf)
        except DataError:
            raise
        except Exception as exc:
            failures.append(f"hf:{dl.hf.path} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
    what = f"expected {expected}; " if expected else ""
    if not failures:
        raise DataError(f"task {spec.name!r} split {split!r}: {what}no download location is known; to get it: {how_to_get(spec, split)}")
    raise DataError(f"task {spec.name!r} split {split!r}: {what}could not download from {'; '.join(failures)}; "
                    f"to get it: {spec.source.get('instructions') or 'see docs/data.md'}")


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, URL_OPENER(url, timeout=TIMEOUT) as resp:
            shutil.copyfileobj(resp, out, length=1 << 20)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_url(spec: DataFiles, split: str) -> Path:
    dl = spec.download
    assert dl is not None
    url = dl.urls[split]
    dest = cached_path(spec, split)
    member = dl.archive_member.get(split)
    if member:
        archive = cache_root() / "archives" / (hashlib.sha256(url.encode()).hexdigest()[:16] + "-" + Path(url).name)
        if not archive.is_file():
            _download(url, archive)
            _record(archive, url)
        try:
            with zipfile.ZipFile(archive) as zf, zf.open(member) as src:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
        except KeyError:
            raise DataError(f"{url}: archive has no member {member!r} (task {spec.name}, split {split})") from None
        except zipfile.BadZipFile:
            archive.unlink(missing_ok=True)
            raise DataError(f"{url}: downloaded file is not a zip archive; removed it, try again") from None
        origin = f"{url}#{member}"
    else:
        _download(url, dest)
        origin = url
    digest = _record(dest, origin)
    pinned = dl.sha256.get(split)
    if pinned and digest != pinned:
        dest.unlink(missing_ok=True)
        raise DataError(f"{origin}: sha256 {digest[:12]}… does not match the task's pinned {pinned[:12]}…; "
                        "the file was removed (the source changed, or the download was corrupted)")
    return dest


# ----------------------------------------------------------------------------- hub


def hf_reading_spec(spec: TaskSpec, hf: HFSource) -> TaskSpec:
    """The spec a hub export is read with: JSONL keyed by the task's own input names,
    ``label`` and ``id`` (unchanged for ``as_is`` exports such as KILT)."""
    if hf.as_is:
        return spec
    return spec.model_copy(update={
        "format": "jsonl",
        "format_options": {},
        "fields": {name: name for name in spec.fields},
        "label_field": "label" if spec.label_field else None,
        "id_field": "id" if hf.id_column else None,
        "cluster_field": None,
    })


def _kilt_shape(row: dict[str, Any]) -> dict[str, Any]:
    """Undo the hub's padding of KILT records (``answer: ""``, ``provenance: []``, None
    provenance fields), which KILT's scorer would read as empty answers and evidence sets."""
    outputs = []
    for o in row.get("output") or []:
        o = {k: v for k, v in o.items() if not (k == "answer" and v in ("", None) or k == "provenance" and not v)}
        if "provenance" in o:
            o["provenance"] = [{k: v for k, v in p.items() if v is not None} for p in o["provenance"]]
        outputs.append(o)
    return {**row, "output": outputs}


def _fetch_hf(spec: DataFiles, split: str, hf: HFSource) -> Path:
    ds = HF_LOADER(hf.path, hf.name, hf.splits[split])
    features = getattr(ds, "features", None) or {}
    names = None
    if hf.label_names and hf.label_column:
        names = getattr(features.get(hf.label_column), "names", None)
        if not names:
            raise DataError(f"hf:{hf.path}: column {hf.label_column!r} has no class names (label_names: true)")
    dest = hf_export_path(spec, split)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as out:
        for row in ds:
            if not isinstance(row, dict):
                raise DataError("hub dataset rows are not mappings")
            if hf.as_is:
                rec = _kilt_shape(row) if spec.format == "kilt" else row
            else:
                rec = {name: row[col] for name, col in hf.fields.items()}
                if hf.label_column:
                    value = row[hf.label_column]
                    if names is not None and isinstance(value, int) and 0 <= value < len(names):
                        value = names[value]
                    rec["label"] = value
                if hf.id_column:
                    rec["id"] = row[hf.id_column]
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, dest)
    _record(dest, f"hf:{hf.path}/{hf.name or ''}[{hf.splits[split]}]")
    return dest


__all__ = ["ENV_CACHE_DIR", "ENV_DATA_DIR", "ENV_DOWNLOAD", "cache_root", "cached_path", "download_allowed",
           "fetch_split", "file_sha256", "hf_export_path", "how_to_get", "locate_file", "locate_split", "offline",
           "override_path", "resolve_data_dir"]
