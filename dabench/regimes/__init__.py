"""Training regimes for encoders and other backbones: fine-tuning (the DSP protocol) and linear probing.

Public surface:

- ``dabench.compare(..., regime="finetune" | "probe")``: base vs adapted backbone, each
  fine-tuned (several seeds, the seeds t-test over seeds × examples) or probed on every task
  (the kind is :class:`~dabench.regimes.compare.RegimePlan`);
- :class:`FinetuneConfig`, :class:`ProbeConfig`, :data:`PRESETS` (``dsp``, ``small-cpu``);
- :func:`finetune_seed`, :func:`probe_run`: one run on encoded splits;
- :func:`regime_info`: a task's regime details (mean ± sd per model, per-seed scores, runs).
"""

from dabench.regimes.backbone import Backbone
from dabench.regimes.compare import META_ID, majority, seed_list
from dabench.regimes.config import PRESETS, FinetuneConfig, Preset, ProbeConfig, get_preset
from dabench.regimes.finetune import finetune_seed, slanted_triangular
from dabench.regimes.info import regime_info
from dabench.regimes.probe import extract_features, probe_run

__all__ = [
    "Backbone",
    "FinetuneConfig",
    "META_ID",
    "PRESETS",
    "Preset",
    "ProbeConfig",
    "extract_features",
    "finetune_seed",
    "get_preset",
    "majority",
    "probe_run",
    "regime_info",
    "seed_list",
    "slanted_triangular",
]
