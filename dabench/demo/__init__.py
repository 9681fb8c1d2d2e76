"""The embedded default of ``dabench demo``: a small fictional world, three mini tasks, and
a recipe that builds a base causal LM and a domain-adapted copy of it on CPU in seconds.

* :mod:`dabench.demo.generate` writes the corpora and task files (committed under ``data/``).
* :mod:`dabench.demo.build` trains the tokenizer and both models (:func:`build_demo`).
* The task specs (``demo_domain``, ``demo_general``, ``demo_knowledge``) are ordinary
  registered tasks of suite ``demo`` (``tasks/demo/*.yaml``, shipped as ``dabench/_tasks``);
  with ``data_source: package`` they read their files from :data:`DATA_DIR` without a data dir.
"""

from dabench.demo.build import DATA_DIR, BuildConfig, DemoAssets, TrainConfig, build_demo

#: the adaptation domain of the demo suite (``TaskSpec.category_for(DEMO_DOMAIN)``)
DEMO_DOMAIN = "pharma"
#: the registered suite of the demo's tasks
DEMO_SUITE = "demo"
#: the demo's tasks, in the order a report lists them
DEMO_TASKS = ("demo_domain", "demo_general", "demo_knowledge")

__all__ = ["BuildConfig", "DATA_DIR", "DEMO_DOMAIN", "DEMO_SUITE", "DEMO_TASKS", "DemoAssets", "TrainConfig",
           "build_demo"]
