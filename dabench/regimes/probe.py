"""Linear probe: frozen backbone features and a logistic-regression head.

Features are the backbone's last hidden states pooled per example (mean over real tokens by
default, or CLS / last token), extracted once per split with the backbone frozen in eval mode.
The head is scikit-learn's ``LogisticRegression`` (lbfgs, multinomial) on standardised
features; its inverse regularisation strength C is chosen from a small grid by the task's
metric on the dev split (ties: the smaller C), fitted on the train split only. Nothing is
random, so one run per model is the whole answer (seeds do not apply).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from dabench.metrics.base import Metric
from dabench.progress import NullProgress, Progress
from dabench.regimes.backbone import Backbone, Encoded, pool, resolve_pooling
from dabench.regimes.config import ProbeConfig

#: C used when the task has no dev split to choose it on
DEFAULT_C = 1.0


def extract_features(backbone: Backbone, data: Encoded, pooling: str, batch_size: int,
                     advance: Callable[[int], None] | None = None) -> np.ndarray:
    """Pooled last hidden states ``(n, H)`` in float64, in input order."""
    model = backbone.model()
    model.eval()
    how = resolve_pooling(pooling, backbone.config)
    return backbone.outputs(data, batch_size, backbone.hidden_size,
                            lambda batch: pool(model(**batch).last_hidden_state, batch["attention_mask"], how), advance)


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float, max_iter: int) -> Any:
    """Standardise + multinomial logistic regression (deterministic lbfgs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    return clf


def predict_labels(clf: Any, x: np.ndarray) -> np.ndarray:
    """Label indices of the task from a fitted pipeline (its classes are the train labels seen)."""
    return np.asarray(clf.classes_)[clf.predict_proba(x).argmax(1)].astype(np.int64)


@dataclass
class ProbeRun:
    test_pred: np.ndarray
    c: float
    dev_scores: dict[str, float]
    seconds: float

    def meta(self) -> dict[str, Any]:
        return {"C": self.c, "dev_scores": self.dev_scores, "seconds": round(self.seconds, 2)}


def probe_run(
    backbone: Backbone,
    train: Encoded,
    dev: Encoded | None,
    test: Encoded,
    cfg: ProbeConfig,
    *,
    select_metric: Metric,
    progress: Progress | None = None,
    label: str = "",
) -> ProbeRun:
    """Extract features of the three splits, choose C on dev, predict the test split."""
    progress = progress or NullProgress()
    start = time.perf_counter()
    feats = {name: extract_features(backbone, data, cfg.pooling, cfg.batch_size,
                                    progress.task(f"{label} · features {name}", len(data)))
             for name, data in (("train", train), ("dev", dev), ("test", test)) if data is not None}
    dev_scores: dict[str, float] = {}
    best_c, best_clf = DEFAULT_C, None
    if dev is not None:
        best = -np.inf
        for c in sorted(cfg.c_grid):
            clf = fit_logistic(feats["train"], train.labels, c, cfg.max_iter)
            score = float(select_metric.score(predict_labels(clf, feats["dev"]), dev.labels))
            dev_scores[repr(float(c))] = score
            if score > best:
                best, best_c, best_clf = score, float(c), clf
    clf = best_clf if best_clf is not None else fit_logistic(feats["train"], train.labels, best_c, cfg.max_iter)
    return ProbeRun(predict_labels(clf, feats["test"]), best_c, dev_scores, time.perf_counter() - start)
