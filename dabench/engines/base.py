"""The engine interface: what the runner may ask of a model, and nothing about tasks.

A causal LM (:class:`LMEngine`) scores continuations and generates greedily; a fine-tuned
sequence classifier (:class:`ClassifierEngine`) predicts a task's labels from the raw inputs.
:data:`Engine` is either, told apart by ``kind`` (a type checker narrows the union on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Mapping, Protocol, Self, Sequence, TypeAlias

ProgressFn = Callable[[int], None]
"""Called with the number of requests just finished."""


@dataclass(frozen=True)
class ScoreRequest:
    """Score each continuation after the same context (one multi-choice example)."""

    context: str
    continuations: tuple[str, ...]


class ModelEngine(Protocol):
    """What every loaded model offers, whatever it predicts."""

    #: a short human-readable name (path or hub id)
    name: str

    @property
    def kind(self) -> str:
        """``"lm"`` or ``"classifier"``: which of the protocols below the engine follows."""
        ...

    def fingerprint(self) -> str:
        """A stable hash of weights + adapter + tokenizer: stored records are never reused for another model."""
        ...

    def base_view(self, name: str | None = None) -> Self:
        """A PEFT adapter's base model on the same loaded weights, adapter switched off (so a
        comparison loads the weights once); ``ValueError`` for an engine not loaded from an adapter."""
        ...


class LMEngine(ModelEngine, Protocol):
    """A causal LM that can be asked for scores and generations."""

    @property
    def kind(self) -> Literal["lm"]:
        ...

    def loglikelihood(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None) -> list[list[float]]:
        """For each request, the summed log-probability of each continuation."""
        ...

    def generate(self, prompts: Sequence[str], *, stop: Sequence[str] = (), max_new_tokens: int = 32,
                 progress: ProgressFn | None = None) -> list[str]:
        """Greedy continuation of each prompt, cut at the first stop sequence."""
        ...


class ClassifierEngine(ModelEngine, Protocol):
    """A fine-tuned sequence classifier (or regressor): predicts labels from raw inputs."""

    @property
    def kind(self) -> Literal["classifier"]:
        ...

    #: True for a regression head (e.g. STS-B): ``classify`` returns one value per input
    is_regression: bool

    def classify(self, inputs: Sequence[Sequence[str]], labels: Sequence[str], progress: ProgressFn | None = None,
                 verbalizers: Mapping[str, str] | None = None) -> list[list[float]]:
        """Per input (one text, or a text pair), a log-probability per task label in ``labels``'s
        order (output classes matched to the labels by name, the verbalisers helping); for a
        regression head, ``[value]``."""
        ...


Engine: TypeAlias = LMEngine | ClassifierEngine
"""Any loaded engine; ``engine.kind`` says which."""
