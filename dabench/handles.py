"""Model handles: a checkpoint resolved, fingerprinted and preflighted before anything loads,
its engine loaded on first use and released when a side is done.

A PEFT adapter and its own base share one load (:class:`SharedLoad`): the base side runs on the
adapter's engine with the adapter switched off, so the base weights load once.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from dabench.comparison import ModelInfo
from dabench.engines import SERVED_ENGINES, Engine, load_engine, resolve_options
from dabench.engines.checkpoints import fingerprint as checkpoint_fingerprint, preflight, recorded_location, \
    resolve_against_base, shares_base, tokenizer_dir
from dabench.engines.served import ServedModel, per_role
from dabench.errors import CheckpointError

V = TypeVar("V")


class ModelHandle:
    """A checkpoint whose engine is loaded on first use and released when done (or, with
    ``shared``, run on the :class:`SharedLoad` of an adapter and its own base)."""

    def __init__(self, checkpoint: str, engine: str, options: Mapping[str, Any], *,
                 resolved: Any = None, shared: "SharedLoad | None" = None, role: str = "own") -> None:
        self.checkpoint = checkpoint
        self.kind = engine
        self.options = dict(options)
        self.resolved = resolved or resolve_options(checkpoint, self.options)
        self._shared = shared
        self._role = role
        self._engine: Engine | None = None
        self.loaded = False
        self._fp: str | None = None
        self._views: dict[str, Any] = {}

    def fingerprint(self) -> str:
        if self._fp is None and isinstance(self.resolved, ServedModel):
            self._fp = self.get().fingerprint()  # the server says who the model is (a probe, not a load)
        if self._fp is None:
            try:
                self._fp = checkpoint_fingerprint(self.resolved, download=False)
            except CheckpointError:  # a hub model not in the local cache: loading fetches it
                self._fp = self.get().fingerprint()
        return self._fp

    def tokenizer_source(self) -> str | None:
        """Where this model's tokenizer is locally (chat formats render with it; no weights load)."""
        if isinstance(self.resolved, ServedModel):
            return self.resolved.tokenizer
        return tokenizer_dir(self.resolved)

    def get(self) -> Engine:
        if self._engine is None:
            if self._shared is not None:
                adapter = self._shared.get()
                self._engine = adapter.base_view(self.checkpoint) if self._role == "base" else adapter
            else:
                self._engine = load_engine(self.kind, self.checkpoint, resolved=self.resolved, **self.options)
            self.loaded = True
        return self._engine

    @property
    def shares_load(self) -> bool:
        """Whether this side runs on a load shared with the other (an adapter and its own base)."""
        return self._shared is not None

    def view(self, name: str, build: Callable[["ModelHandle"], V]) -> V:
        """A kind's own view of this model (a scoring LM, a trainable backbone), built on first
        use and kept until :meth:`release`, so every work unit of the side shares one load."""
        if name not in self._views:
            self._views[name] = build(self)
        view: V = self._views[name]
        return view

    def loaded_engine(self) -> Engine | None:
        """The engine if it is loaded already (another kind of the same side loaded it), else None."""
        return self._engine

    def release(self) -> None:
        for view in self._views.values():
            if hasattr(view, "release"):
                view.release()
        self._views.clear()
        self._engine = None
        if self._shared is not None:
            self._shared.release()
        gc.collect()

    def info(self) -> ModelInfo:
        """How the comparison names the model: the checkpoint's last component as typed, and its
        absolute path (a stored comparison is replayed from any directory)."""
        return ModelInfo(name=Path(self.checkpoint).name or self.checkpoint,
                         path=recorded_location(self.resolved.location), fingerprint=self.fingerprint())


def load_groups(handles: Mapping[str, ModelHandle]) -> list[dict[str, ModelHandle]]:
    """Unloaded copies of ``handles`` (what a worker rebuilds), grouped by what they load: roles
    sharing one load form one group; the copies keep the resolved checkpoint and fingerprint."""
    groups: dict[int, tuple[SharedLoad | None, dict[str, ModelHandle]]] = {}
    for role, h in handles.items():
        s = h._shared
        key = id(s) if s is not None else id(h)
        if key not in groups:
            groups[key] = (SharedLoad(s.adapted, s.kind, s.options, s.resolved, users=0) if s is not None else None, {})
        shared, group = groups[key]
        if shared is not None:
            shared.users += 1
        copy = ModelHandle(h.checkpoint, h.kind, h.options, resolved=h.resolved, shared=shared, role=h._role)
        copy._fp = h._fp
        group[role] = copy
    return [group for _, group in groups.values()]


class SharedLoad:
    """One adapter engine serving two handles; freed when both are released."""

    def __init__(self, adapted: str, engine: str, options: Mapping[str, Any], resolved: Any, users: int = 2) -> None:
        self.adapted = adapted
        self.kind = engine
        self.options = dict(options)
        self.resolved = resolved
        self.engine: Engine | None = None
        self.users = users

    def get(self) -> Engine:
        if self.engine is None:
            self.engine = load_engine(self.kind, self.adapted, resolved=self.resolved, **self.options)
        return self.engine

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.engine = None


def make_handles(base: str, adapted: str, engine: str, options: Mapping[str, Any]) -> tuple[ModelHandle, ModelHandle]:
    """Handles of both sides; an adapter on the base's own weights shares the base's load; a
    served model (``--engine openai``) is its served name at its side's URL."""
    if engine in SERVED_ENGINES:
        urls = per_role(list(options.get("base_url") or []), "--base-url")  # given: RunOptions.validate checks it
        toks = per_role(list(options.get("tokenizer") or []), "--tokenizer")

        def served(name: str, role: str) -> ModelHandle:
            return ModelHandle(name, engine, {**options, "base_url": urls[role], "tokenizer": toks.get(role)},
                               resolved=ServedModel(name, urls[role], toks.get(role)))

        return served(base, "base"), served(adapted, "adapted")
    base_h = ModelHandle(base, engine, options)
    adapted_ck = resolve_against_base(adapted, base_h.resolved, arch=options.get("arch"),
                                      adapter_base=options.get("adapter_base"), prefix=options.get("ckpt_prefix"))
    for ck in (base_h.resolved, adapted_ck):  # a broken tokenizer or truncated weights fail now, not after hours
        preflight(ck, trust_remote_code=bool(options.get("trust_remote_code")))
    if shares_base(adapted_ck, base_h.resolved):
        shared = SharedLoad(adapted, engine, options, adapted_ck)
        return (ModelHandle(base, engine, options, resolved=base_h.resolved, shared=shared, role="base"),
                ModelHandle(adapted, engine, options, resolved=adapted_ck, shared=shared, role="adapter"))
    return base_h, ModelHandle(adapted, engine, options, resolved=adapted_ck)
