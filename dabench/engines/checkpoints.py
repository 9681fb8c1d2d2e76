"""What users pass as a checkpoint, and how each kind is fingerprinted and loaded safely.

Kinds:

``dir``      a local transformers model directory (``config.json`` + weights + tokenizer);
``hub``      a hub id (``org/name``), used from the local hub cache when it is there;
``adapter``  a PEFT adapter directory (``adapter_config.json``); its base comes from
             ``base_model_name_or_path`` unless ``adapter_base`` overrides it;
``ckpt``     a weights file (``.ckpt``/``.pt``/``.pth``/``.bin``/``.safetensors``, a Lightning
             checkpoint or a plain state dict) loaded into the architecture named by ``arch``
             (a model directory or hub id); prefixes such as ``model.`` are stripped.

Loading never runs a checkpoint's code unless asked (``trust_remote_code``, ``allow_pickle``).
The fingerprint hashes the files that determine outputs, without loading the model.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from dabench.engines.fingerprint import directory_fingerprint, file_digest, fingerprint_of
from dabench.errors import CheckpointError

WEIGHT_FILE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".safetensors")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model", "spiece.model", "vocab.txt")
_COMMON_PREFIXES = ("model.", "module.", "model.model.", "_orig_mod.", "module.model.", "net.", "backbone.")


@dataclass(frozen=True)
class Checkpoint:
    """A resolved checkpoint: its kind, where it is, and what it builds on."""

    spec: str
    kind: str  # dir | hub | adapter | ckpt
    location: Path | str
    base: "Checkpoint | None" = None  # adapter: the base model; ckpt: the architecture
    prefix: str | None = None  # ckpt: explicit key prefix to strip

    def config_dir(self) -> Path | str:
        """Where config.json (and, by default, the tokenizer) come from."""
        if self.kind in ("adapter", "ckpt"):
            assert self.base is not None
            return self.base.config_dir()
        return self.location

    def tokenizer_source(self) -> Path | str:
        if self.kind == "adapter" and any((Path(self.location) / f).is_file() for f in TOKENIZER_FILES):
            return self.location
        return self.config_dir()


def is_hub_id(name: str) -> bool:
    """``org/name`` that is not a local path."""
    parts = name.split("/")
    return (len(parts) == 2 and all(parts) and not Path(name).exists()
            and not name.startswith((".", "/", "~")) and not name.endswith(WEIGHT_FILE_SUFFIXES))


def resolve(
    name: str, *, arch: str | None = None, adapter_base: str | None = None, prefix: str | None = None
) -> Checkpoint:
    """Classify ``name`` into a :class:`Checkpoint`; one-line errors for what cannot be used."""
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return Checkpoint(name, "adapter", path, _adapter_base(path, adapter_base))
        if not (path / "config.json").is_file():
            raise CheckpointError(f"{path}: not a model directory (no config.json or adapter_config.json)")
        return Checkpoint(name, "dir", path)
    if path.is_file() and name.endswith(WEIGHT_FILE_SUFFIXES):
        if not arch:
            raise CheckpointError(f"{path}: a weights file needs --arch naming the model config (a model directory or hub id)")
        arch_ck = resolve(arch)
        if arch_ck.kind not in ("dir", "hub"):
            raise CheckpointError(f"--arch {arch}: expected a model directory or hub id with a config.json")
        return Checkpoint(name, "ckpt", path, arch_ck, prefix)
    if path.exists():  # a local path is never looked up on the hub, whatever its shape
        raise CheckpointError(f"{path}: expected a model directory or a weights file ({', '.join(WEIGHT_FILE_SUFFIXES)})")
    if is_hub_id(name):
        return Checkpoint(name, "hub", name)
    raise CheckpointError(f"checkpoint {name!r} not found: no such directory or file (pass a model directory, "
                          "a PEFT adapter directory, a .ckpt file with --arch, or a hub id)")


def recorded_location(location: Path | str) -> str:
    """Where a checkpoint is, as a comparison records it: a local path made absolute (so the
    gate finds the baseline from any directory), a hub id as it is."""
    return str(location.resolve()) if isinstance(location, Path) else location


def _adapter_base(adapter_dir: Path, override: str | None) -> Checkpoint:
    cfg_path = adapter_dir / "adapter_config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{cfg_path}: not valid JSON ({exc})") from None
    base = override or cfg.get("base_model_name_or_path")
    if not base:
        raise CheckpointError(f"{cfg_path}: no base_model_name_or_path; pass the base with --adapter-base")
    candidate = Path(base).expanduser()
    if not candidate.is_absolute() and not candidate.exists() and (adapter_dir / base).exists():
        base = str(adapter_dir / base)
    try:
        ck = resolve(base)
    except CheckpointError:
        raise CheckpointError(
            f"{cfg_path}: base model {base!r} not found; pass the base with --adapter-base PATH") from None
    if ck.kind not in ("dir", "hub"):
        raise CheckpointError(f"{cfg_path}: base model {base!r} must be a model directory or hub id")
    return ck


def adapter_config(ck: Checkpoint) -> dict[str, Any]:
    """The ``adapter_config.json`` of an adapter checkpoint (``{}`` when it cannot be read)."""
    try:
        cfg = json.loads((Path(ck.location) / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def adapter_weight_files(ck: Checkpoint) -> list[Path]:
    """The adapter's ``adapter_model.safetensors`` / ``.bin``; an error when there is none."""
    files = [p for p in Path(ck.location).glob("adapter_model.*") if p.suffix in (".safetensors", ".bin")]
    if not files:
        raise CheckpointError(f"{ck.location}: no adapter_model.safetensors or adapter_model.bin")
    return files


# -- hub ------------------------------------------------------------------------------------
def local_dir(ck: Checkpoint, *, download: bool = True) -> Path | None:
    """The directory holding a dir/hub checkpoint's files: a hub model's local snapshot (downloaded
    when ``download``), else None."""
    if ck.kind != "hub":
        return Path(ck.location) if ck.kind == "dir" else None
    repo_id = str(ck.location)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers depends on it
        return None
    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached
        if not download:
            return None
    try:
        return Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken"]))
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{repo_id}: cannot be downloaded from the hub ({_first_line(exc)}); "
                              "pass a local model directory instead") from None


# -- fingerprints -------------------------------------------------------------------------------
def fingerprint(ck: Checkpoint, *, download: bool = True) -> str:
    """Hash of everything that determines the checkpoint's outputs (no model is loaded)."""
    if ck.kind in ("dir", "hub"):
        d = local_dir(ck, download=download)
        if d is None:
            raise CheckpointError(f"{ck.spec}: not in the local hub cache")
        return directory_fingerprint(d)
    assert ck.base is not None
    if ck.kind == "adapter":
        return fingerprint_of("adapter", fingerprint(ck.base, download=download), directory_fingerprint(Path(ck.location)))
    return fingerprint_of("ckpt", fingerprint(ck.base, download=download), file_digest(Path(ck.location)), ck.prefix or "")


class Fingerprinted:
    """An engine's ``fingerprint()``: its ``checkpoint``'s, computed on first use."""

    name: str
    checkpoint: Checkpoint
    _fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.checkpoint)
        return self._fingerprint

    def _base_copy(self, name: str | None, what: str = "PEFT") -> Self:
        """For ``base_view``: a shallow copy of an adapter's engine on its base checkpoint (same weights)."""
        base = self.checkpoint.base
        if self.checkpoint.kind != "adapter" or base is None:
            raise ValueError(f"base_view needs an engine loaded from a {what} adapter")
        view = copy.copy(self)
        view.name = name or base.spec
        view.checkpoint = base
        view._fingerprint = None
        return view


def _local_source(ck: Checkpoint, src: Path | str) -> Path | str:
    """``src`` (a hub id) as its local snapshot when it is the hub model of ``ck`` or of its base."""
    hub = ck if ck.kind == "hub" else ck.base
    if isinstance(src, str) and hub is not None and hub.kind == "hub":
        return local_dir(hub) or src
    return src


# -- config / head -----------------------------------------------------------------------------
def read_config(ck: Checkpoint, *, trust_remote_code: bool = False) -> Any:
    from transformers import AutoConfig

    src = _local_source(ck, ck.config_dir())
    try:
        return AutoConfig.from_pretrained(src, trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{src}: config.json cannot be read ({_first_line(exc)})") from None


def head_of(ck: Checkpoint, *, trust_remote_code: bool = False) -> str:
    """``classifier`` or ``causal`` from the checkpoint's config (adapters: from their task type)."""
    if ck.kind == "adapter":
        head = {"SEQ_CLS": "classifier", "CAUSAL_LM": "causal"}.get(str(adapter_config(ck).get("task_type")))
        if head:
            return head
        assert ck.base is not None
        return head_of(ck.base, trust_remote_code=trust_remote_code)
    architectures = getattr(read_config(ck, trust_remote_code=trust_remote_code), "architectures", None) or []
    return "classifier" if any(a.endswith("ForSequenceClassification") for a in architectures) else "causal"


# -- loading ----------------------------------------------------------------------------------
def tokenizer_dir(ck: Checkpoint) -> str:
    """Where the checkpoint's tokenizer is on this machine (a hub model's local cache, fetched if
    needed), for what reads the tokenizer without the model (chat formats)."""
    return str(_local_source(ck, ck.tokenizer_source()))


def load_tokenizer(ck: Checkpoint, *, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    src = _local_source(ck, ck.tokenizer_source())
    try:
        return AutoTokenizer.from_pretrained(src, trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - every tokenizer failure is the checkpoint's
        raise CheckpointError(f"{ck.spec}: tokenizer cannot be loaded from {src} ({_first_line(exc)})") from None


def load_model(ck: Checkpoint, auto_class: Any, *, dtype: Any, trust_remote_code: bool = False,
               allow_pickle: bool = False) -> Any:
    """The model of ``ck`` as ``auto_class`` (e.g. AutoModelForCausalLM); adapters as a PeftModel."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # dabench draws its own progress; a per-load weights bar is noise
    if ck.kind in ("dir", "hub"):
        src = local_dir(ck)
        try:
            return auto_class.from_pretrained(src, dtype=dtype, trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{ck.spec}: model weights cannot be loaded ({_first_line(exc)})") from None
    if ck.kind == "ckpt":
        return _load_weights_file(ck, auto_class, dtype=dtype, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    assert ck.base is not None
    base = load_model(ck.base, auto_class, dtype=dtype, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    return attach_adapter(base, ck)


def attach_adapter(model: Any, ck: Checkpoint) -> Any:
    """Wrap ``model`` with the PEFT adapter of ``ck``; a mismatching base is a CheckpointError."""
    try:
        from peft import PeftModel
    except ImportError:
        raise CheckpointError(f"{ck.spec}: is a PEFT adapter; install peft (pip install 'dabench[peft]')") from None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peft_model = PeftModel.from_pretrained(model, str(ck.location), is_trainable=False)
    except Exception as exc:  # noqa: BLE001
        assert ck.base is not None
        raise CheckpointError(f"{ck.spec}: adapter does not fit its base model {ck.base.spec} ({_first_line(exc)}); "
                              "pass the base it was trained on (--adapter-base)") from None
    _check_adapter_loaded(peft_model, ck)
    return peft_model.eval()


def _check_adapter_loaded(peft_model: Any, ck: Checkpoint) -> None:
    """Refuse what PEFT only warns about: adapter weights that match no module, or saved weights of
    modules the model lacks (e.g. trained on ``BertForMaskedLM``, put on a bare ``BertModel``): the
    "adapted" model would silently be the base, or random."""
    files = adapter_weight_files(ck)
    lora_params = [n for n, _ in peft_model.named_parameters() if "lora_" in n or "modules_to_save" in n]
    if not lora_params and str(adapter_config(ck).get("peft_type", "")) == "LORA":
        raise CheckpointError(f"{ck.spec}: no adapter module matched the base model {ck.base.spec if ck.base else ''}")
    saved = _lora_modules(_saved_keys(files[0]))
    missing = sorted(saved - _lora_modules(n for n, _ in peft_model.named_parameters()))
    if missing:
        raise CheckpointError(
            f"{ck.spec}: {len(missing)} of {len(saved)} adapted modules (e.g. {missing[0]}) do not exist in the base "
            f"model as loaded ({type(peft_model.get_base_model()).__name__}); the adapter was trained on another "
            "architecture or head")


def _lora_modules(keys: Any) -> set[str]:
    """The module paths that carry LoRA weights, from parameter or saved-tensor names."""
    return {k[:m.start()] for k in keys if (m := re.search(r"(?:^|\.)lora_", k))}


def _saved_keys(path: Path) -> list[str]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            return list(f.keys())
    return list(read_state_dict(path))


def read_state_dict(path: Path, *, allow_pickle: bool = False) -> dict[str, Any]:
    """Tensors of a weights file (a Lightning checkpoint's ``state_dict`` unwrapped): safetensors,
    or torch.load with ``weights_only`` unless allowed."""
    import torch

    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file

            return dict(load_file(str(path)))
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{path}: corrupt or not a safetensors file ({_first_line(exc)})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except Exception as exc:  # noqa: BLE001
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CheckpointError(f"{path}: holds pickled Python objects besides tensors; loading it could run code. "
                                  "If you trust it, pass --allow-pickle") from None
        raise CheckpointError(f"{path}: corrupt or not a PyTorch checkpoint ({_first_line(exc)})") from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("model"), dict) and not any(torch.is_tensor(v) for v in obj.values()):
        obj = obj["model"]
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict (expected a mapping of names to tensors, or a Lightning "
                              "checkpoint with a 'state_dict' entry)")
    return obj


def strip_prefix(state: dict[str, Any], model_keys: set[str], prefix: str | None = None) -> tuple[dict[str, Any], str]:
    """Keys of ``state`` renamed to the model's: the prefix that matches most model keys is removed."""
    if prefix is not None:
        return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, prefix
    candidates = {""} | set(_COMMON_PREFIXES)
    for k in state:
        parts = k.split(".")
        for n in range(1, min(4, len(parts))):
            candidates.add(".".join(parts[:n]) + ".")
    best, best_hits = "", -1
    for p in sorted(candidates, key=len):
        hits = sum(1 for k in state if k.startswith(p) and k[len(p):] in model_keys)
        if hits > best_hits:
            best, best_hits = p, hits
    return {k[len(best):]: v for k, v in state.items() if k.startswith(best)}, best


def _load_weights_file(ck: Checkpoint, auto_class: Any, *, dtype: Any, trust_remote_code: bool, allow_pickle: bool) -> Any:
    assert ck.base is not None
    config = read_config(ck, trust_remote_code=trust_remote_code)
    state = read_state_dict(Path(ck.location), allow_pickle=allow_pickle)
    try:
        model = auto_class.from_config(config, trust_remote_code=trust_remote_code)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"--arch {ck.base.spec}: cannot build the model from its config ({_first_line(exc)})") from None
    model_keys = set(model.state_dict())
    state, used = strip_prefix(state, model_keys, ck.prefix)
    matched = [k for k in state if k in model_keys]
    if not matched:
        raise CheckpointError(f"{ck.location}: none of its tensors match the parameters of --arch {ck.base.spec} "
                              f"(e.g. {next(iter(model_keys))!r}); pass --ckpt-prefix if its names carry a prefix")
    shapes = model.state_dict()
    for k in matched:
        if tuple(state[k].shape) != tuple(shapes[k].shape):
            raise CheckpointError(f"{ck.location}: tensor {used + k} has shape {tuple(state[k].shape)} but --arch "
                                  f"{ck.base.spec} expects {tuple(shapes[k].shape)}")
    result = model.load_state_dict({k: state[k] for k in matched}, strict=False)
    tied = _tied_keys(model)
    buffers = dict(model.named_buffers())
    missing = [k for k in result.missing_keys if k not in tied and k not in buffers]
    if missing:
        raise CheckpointError(f"{ck.location}: {len(missing)} parameters of --arch {ck.base.spec} are missing "
                              f"(e.g. {missing[0]!r}; key prefix used: {used!r})")
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def _tied_keys(model: Any) -> set[str]:
    out = set(getattr(model, "_tied_weights_keys", None) or [])  # a list, or a dict of names
    if getattr(getattr(model, "config", None), "tie_word_embeddings", False):
        out.add("lm_head.weight")
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


# -- an adapter and its base in one comparison ---------------------------------------------------
def resolve_against_base(
    adapted: str, base: Checkpoint, *, arch: str | None = None, adapter_base: str | None = None, prefix: str | None = None
) -> Checkpoint:
    """Resolve the adapted checkpoint of a comparison whose base is ``base``: an adapter whose
    declared base is not available here (another machine's path, a hub id not cached) gets
    ``base`` unless ``adapter_base`` is given; whether it fits is checked when the weights load."""
    path = Path(adapted).expanduser()
    if adapter_base is None and path.is_dir() and (path / "adapter_config.json").is_file() and base.kind in ("dir", "hub"):
        try:
            ck = resolve(adapted, arch=arch, prefix=prefix)
        except CheckpointError:
            return Checkpoint(adapted, "adapter", path, base)
        if ck.base is not None and local_dir(ck.base, download=False) is None:
            return Checkpoint(adapted, "adapter", path, base)
        return ck
    return resolve(adapted, arch=arch, adapter_base=adapter_base, prefix=prefix)


def shares_base(adapted: Checkpoint, base: Checkpoint) -> bool:
    """True when ``adapted`` is a PEFT adapter on exactly the weights of ``base``."""
    if adapted.kind != "adapter" or adapted.base is None or base.kind not in ("dir", "hub"):
        return False
    a = adapted.base
    if a.kind == base.kind == "hub":
        return a.location == base.location
    da, db = local_dir(a, download=False), local_dir(base, download=False)
    if da is None or db is None:
        return False
    return da.resolve() == db.resolve() or directory_fingerprint(da) == directory_fingerprint(db)


# -- fail fast ------------------------------------------------------------------------------
def preflight(ck: Checkpoint, *, trust_remote_code: bool = False) -> None:
    """Cheap checks before any inference, instead of after the other model's hours of evaluation:
    the tokenizer encodes text and the weight files are whole. Uncached hub models are left to load time."""
    if ck.kind == "hub" and local_dir(ck, download=False) is None:
        return
    if ck.kind == "ckpt":
        _check_weights_file(Path(ck.location))
    elif ck.kind in ("dir", "hub"):
        d = local_dir(ck, download=False)
        assert d is not None
        files = sorted(d.glob("*.safetensors")) or sorted(d.glob("pytorch_model*.bin")) or sorted(d.glob("*.bin"))
        if not files:
            raise CheckpointError(f"{ck.spec}: model weights cannot be loaded (no *.safetensors or pytorch_model.bin in {d})")
        for f in files:
            _check_weights_file(f, what="model weights cannot be loaded")
    elif ck.kind == "adapter":
        assert ck.base is not None
        preflight(ck.base, trust_remote_code=trust_remote_code)
        for f in adapter_weight_files(ck):
            _check_weights_file(f)
    check_tokenizer(load_tokenizer(ck, trust_remote_code=trust_remote_code), ck.spec)


#: text every usable tokenizer turns into tokens (a probe, not a benchmark)
PROBE_TEXT = "The inhibitor binds the enzyme; the film was good."


def check_tokenizer(tokenizer: Any, where: str) -> None:
    """Refuse a tokenizer that cannot encode text (without its files transformers may build an empty one)."""
    fix = "copy the tokenizer files (tokenizer.json, vocab…) into the checkpoint, or pass --arch"
    try:
        ids = tokenizer(PROBE_TEXT)["input_ids"]
        size = len(tokenizer)
    except Exception as exc:  # a tokenizer that raises on plain text is unusable, whatever the reason
        raise CheckpointError(f"{where}: its tokenizer cannot encode text ({type(exc).__name__}: {exc}); {fix}") from None
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    if size < 2 or not [i for i in ids if i not in special]:
        raise CheckpointError(f"{where}: its tokenizer cannot encode text (vocabulary of {size} tokens; no tokenizer "
                              f"files?); {fix}")


def _check_weights_file(path: Path, what: str = "") -> None:
    import zipfile

    lead = f"{what} (" if what else ""
    tail = ")" if what else ""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        try:
            _saved_keys(path)
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{path}: {lead}corrupt or not a safetensors file: {_first_line(exc)}{tail}") from None
        return
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":  # torch.save's zip format: the central directory must be there
        try:
            with zipfile.ZipFile(path) as zf:
                zf.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise CheckpointError(f"{path}: {lead}corrupt or not a PyTorch checkpoint: {exc}{tail}") from None
