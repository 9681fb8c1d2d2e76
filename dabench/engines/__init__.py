"""Model engines. ``load_engine`` picks one by name and by what the checkpoint is."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Mapping

from dabench.engines.base import ClassifierEngine, Engine, LMEngine, ModelEngine, ScoreRequest
from dabench.errors import DabenchError

if TYPE_CHECKING:
    from dabench.engines.checkpoints import Checkpoint

#: engine name → (loader as "module:function", imported only when used; the pip extra that provides its dependency)
ENGINE_LOADERS: dict[str, tuple[str, str | None]] = {
    "hf": ("dabench.engines.classifier:load_hf", None),
    "vllm": ("dabench.engines.vllm:VLLMEngine", "vllm"),
    "openai": ("dabench.engines.openai:OpenAIEngine", None),
}
ENGINES = tuple(ENGINE_LOADERS)
#: engines whose models sit behind a server: named by their served name, not resolved to files
SERVED_ENGINES = ("openai",)


def resolve_options(checkpoint: str, options: Mapping[str, Any]) -> Checkpoint:
    """The :class:`~dabench.engines.checkpoints.Checkpoint` for ``checkpoint`` under engine ``options``."""
    from dabench.engines import checkpoints

    return checkpoints.resolve(checkpoint, arch=options.get("arch"), adapter_base=options.get("adapter_base"),
                               prefix=options.get("ckpt_prefix"))


def load_engine(kind: str, checkpoint: str, **options: Any) -> Engine:
    """Load ``checkpoint`` with the engine named ``kind``; ``options`` may carry the ``resolved`` Checkpoint."""
    options = {k: v for k, v in options.items() if v is not None}
    entry = ENGINE_LOADERS.get(kind)
    if entry is None:
        raise DabenchError(f"unknown engine {kind!r}; available: {', '.join(ENGINES)}")
    target, extra = entry
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'dabench[{extra}]'" if extra else "reinstall dabench"
        raise DabenchError(f"engine {kind!r} needs a package that is not installed ({exc.name or exc}); {hint}") from None
    loader: Any = getattr(module, attr)
    return loader(checkpoint, **options)


__all__ = ["ClassifierEngine", "Engine", "LMEngine", "ModelEngine", "ScoreRequest", "load_engine", "resolve_options",
           "ENGINES", "SERVED_ENGINES"]
