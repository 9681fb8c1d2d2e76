"""Everything the tests build instead of downloading: small corpora from the shared data,
tokenizers, tiny GPT-2 / BERT / Llama models, one training loop, and the checkpoint files
users bring (LoRA adapters, Lightning / plain / safetensors weights, config-only dirs).

Every builder is deterministic for its seed: the session fixtures (``lm_pair``, ``bert_pair``,
the engine fixtures) are the same models in every session, so tests may pin their numbers.

- :mod:`tests._builders.text`: corpora and tokenizers (byte-level BPE, WordPiece);
- :mod:`tests._builders.train`: the training loop (causal or masked LM);
- :mod:`tests._builders.models`: model configs and the model pairs and classifiers;
- :mod:`tests._builders.checkpoints`: adapters, weight files and other checkpoint layouts.
"""
