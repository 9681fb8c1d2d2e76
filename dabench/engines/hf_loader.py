"""The ``hf`` engine's loader: a sequence-classification checkpoint gets the classifier engine
(``kind == "classifier"``), every other checkpoint the causal-LM engine (``kind == "lm"``)."""

from __future__ import annotations

from typing import Any

from dabench.engines import checkpoints
from dabench.engines.base import Engine


def load_hf(checkpoint: str, **options: Any) -> Engine:
    """Load ``checkpoint`` with transformers; ``options`` may carry the ``resolved`` Checkpoint."""
    from dabench.engines import resolve_options

    ck = options.pop("resolved", None) or resolve_options(checkpoint, options)
    if checkpoints.head_of(ck, trust_remote_code=bool(options.get("trust_remote_code"))) == "classifier":
        from dabench.engines.classifier import HFClassifierEngine

        return HFClassifierEngine(checkpoint, resolved=ck, **options)
    from dabench.engines.hf import HFEngine

    options.pop("label_map", None)  # a causal LM scores the task's own verbalisers
    return HFEngine(checkpoint, resolved=ck, **options)
