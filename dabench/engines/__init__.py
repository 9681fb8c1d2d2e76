"""Model engines. ``load_engine`` picks one by name and by what the checkpoint is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from dabench.engines.base import ClassifierEngine, Engine, LMEngine, ModelEngine, ScoreRequest
from dabench.errors import DabenchError

if TYPE_CHECKING:  # for the annotation; the functions import the module when they run
    from dabench.engines.checkpoints import Checkpoint

ENGINES = ("hf", "vllm")


def resolve_options(checkpoint: str, options: Mapping[str, Any]) -> Checkpoint:
    """The :class:`~dabench.engines.checkpoints.Checkpoint` for ``checkpoint`` under engine ``options``."""
    from dabench.engines import checkpoints

    return checkpoints.resolve(checkpoint, arch=options.get("arch"), adapter_base=options.get("adapter_base"),
                               prefix=options.get("ckpt_prefix"))


def load_engine(kind: str, checkpoint: str, **options: Any) -> Engine:
    """Load ``checkpoint`` with the engine named ``kind`` (``hf`` or ``vllm``).

    With ``hf``, a sequence-classification checkpoint gets the classifier engine
    (``kind == "classifier"``); every other checkpoint the causal-LM engine (``kind == "lm"``).
    ``options`` may carry the ``resolved`` Checkpoint.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if kind == "hf":
        from dabench.engines import checkpoints

        ck = options.pop("resolved", None) or resolve_options(checkpoint, options)
        if checkpoints.head_of(ck, trust_remote_code=bool(options.get("trust_remote_code"))) == "classifier":
            from dabench.engines.classifier import HFClassifierEngine

            return HFClassifierEngine(checkpoint, resolved=ck, **options)
        from dabench.engines.hf import HFEngine

        options.pop("label_map", None)  # a causal LM scores the task's own verbalisers
        return HFEngine(checkpoint, resolved=ck, **options)
    if kind == "vllm":
        from dabench.engines.vllm import VLLMEngine

        return VLLMEngine(checkpoint, **options)
    raise DabenchError(f"unknown engine {kind!r}; available: {', '.join(ENGINES)}")


__all__ = ["ClassifierEngine", "Engine", "LMEngine", "ModelEngine", "ScoreRequest", "load_engine", "resolve_options", "ENGINES"]
