"""``--engine openai`` without a model server: its options, the client's retry rules, and the
refusal of a server that returns no prompt log-probabilities (a stand-in that answers like a
llama.cpp server, which is what the check exists for)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from dabench.cli import main
from dabench.engines.endpoint_client import EndpointClient, EndpointError
from dabench.engines.served import per_role
from dabench.errors import OptionError
from tests.engines.fault_proxy import send_json


class _NoPromptLogprobs(BaseHTTPRequestHandler):
    """/v1/models lists ``m``; completions ignore ``echo`` and give log-probs of the generated token only."""

    status_plan: list[int] = []

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        send_json(self, code, body, headers)

    def do_GET(self) -> None:  # noqa: N802
        self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "me"}]})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        if self.path.endswith("/tokenize"):
            self._send(200, {"tokens": [1, 2, 3], "count": 3})
            return
        if self.path.endswith("/detokenize"):
            self._send(200, {"prompt": "<s>"})
            return
        if self.status_plan:
            code = self.status_plan.pop(0)
            self._send(code, {"error": {"message": f"status {code}"}}, {"Retry-After": "0"} if code == 429 else None)
            return
        self._send(200, {"choices": [{"index": 0, "text": " x", "logprobs": {"tokens": [" x"], "token_logprobs": [-0.5]}}]})


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoPromptLogprobs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_server_without_prompt_logprobs_is_refused_up_front(stand_in, shared_data, capsys, tmp_path):
    code = main(["compare", "m", "m", "--engine", "openai", "--base-url", stand_in, "--tasks", "sst2",
                 "--data-dir", str(shared_data), "--limit", "4", "--out", str(tmp_path / "o"),
                 "--store", str(tmp_path / "s.sqlite")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "returns no prompt log-probabilities" in err and "refuses rather than score at chance" in err
    assert not (tmp_path / "o" / "comparison.json").exists()


def test_an_unknown_served_name_is_one_line(stand_in, shared_data, capsys, tmp_path):
    code = main(["compare", "nosuch", "m", "--engine", "openai", "--base-url", stand_in, "--tasks", "sst2",
                 "--data-dir", str(shared_data), "--limit", "4", "--out", str(tmp_path / "o"),
                 "--store", str(tmp_path / "s.sqlite")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "does not serve a model named 'nosuch' (it serves: m)" in err


def test_client_retries_429_and_5xx_and_stops_at_a_4xx(stand_in):
    sleeps: list[float] = []
    client = EndpointClient(stand_in, max_retries=3, backoff=0.25, sleep=sleeps.append)
    _NoPromptLogprobs.status_plan[:] = [429, 500, 503]
    out = client.post("/completions", {"model": "m", "prompt": [1]})
    assert out["choices"][0]["text"] == " x" and client.retries == 3
    assert sleeps == [0.0, 0.5, 1.0]  # Retry-After: 0 honoured, then exponential backoff
    _NoPromptLogprobs.status_plan[:] = [500] * 4
    with pytest.raises(EndpointError, match="no answer after 4 tries .*HTTP 500: status 500.*rerun the same command"):
        client.post("/completions", {"model": "m"})
    _NoPromptLogprobs.status_plan[:] = [400]
    with pytest.raises(EndpointError, match=r"refused the request \(HTTP 400: status 400\)"):
        client.post("/completions", {"model": "m"})
    dead = EndpointClient("http://127.0.0.1:9/v1", max_retries=1, sleep=sleeps.append)
    with pytest.raises(EndpointError, match="no answer after 2 tries"):
        dead.get("/models")


def test_per_role_values():
    assert per_role(["http://a:1/v1"], "--base-url") == {"base": "http://a:1/v1", "adapted": "http://a:1/v1"}
    assert per_role(["http://a:1/v1", "adapted=http://b:2/v1"], "--base-url") == \
        {"base": "http://a:1/v1", "adapted": "http://b:2/v1"}
    assert per_role(["adapted=/tok", "/tok0"], "--tokenizer") == {"adapted": "/tok", "base": "/tok0"}
    with pytest.raises(OptionError, match="must be base or adapted"):
        per_role(["other=x"], "--tokenizer")


@pytest.mark.parametrize("args, needle", [
    (["--max-concurrency", "4"], "--max-concurrency applies to --engine openai"),
    (["--base-url", "http://x/v1"], "--base-url applies to --engine openai"),
    (["--engine", "openai"], "--engine openai needs --base-url"),
    (["--engine", "openai", "--base-url", "http://x/v1", "--max-concurrency", "0"], "--max-concurrency must be at least 1"),
    (["--engine", "openai", "--base-url", "http://x/v1", "--regime", "probe"], "trains and scores with the hf engine"),
])
def test_option_errors(args, needle, capsys):
    assert main(["compare", "a", "b", "--tasks", "sst2", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err
