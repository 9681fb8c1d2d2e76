"""A fault-injecting HTTP reverse proxy for tests (standard library only).

:class:`FaultProxy` listens on 127.0.0.1 and a free port and forwards every request (method,
path, headers, body) to an upstream server, relaying its response (streamed when the upstream
streams it). A *fault plan* is applied to the incoming requests in order, one entry each; once
it is used up, requests pass through. Faults:

- ``"drop"``: close the connection without any response (the client sees it disconnect);
- ``"500"``: answer HTTP 500 with a JSON error body (OpenAI's error shape);
- ``"429"``: answer HTTP 429 with ``Retry-After: 1`` and a JSON error body;
- ``"slow:S"``: wait S seconds (a float), then forward;
- ``None``: forward.

An upstream that cannot be reached is answered with HTTP 502, as a real proxy does::

    with FaultProxy("http://127.0.0.1:8000/v1", ["drop", "429", None, "slow:2"]) as proxy:
        client(base_url=proxy.url)   # http://127.0.0.1:PORT/v1
        assert proxy.faults_served == 3
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import urlsplit

Fault = str | None
#: headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus Host
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"})


def check_fault(fault: Fault) -> Fault:
    """``fault`` if it is one the proxy knows, else ValueError."""
    if fault in (None, "drop", "500", "429"):
        return fault
    if isinstance(fault, str) and fault.startswith("slow:"):
        try:
            if float(fault[5:]) >= 0:
                return fault
        except ValueError:
            pass
    raise ValueError(f"unknown fault {fault!r}: use 'drop', '500', '429', 'slow:SECONDS' or None")


@dataclass
class ServedRequest:
    """One request the proxy received, and the fault it applied to it."""

    method: str
    path: str
    fault: Fault
    #: the request's headers as received (e.g. to check what a client authenticates with)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _State:
    upstream_host: str
    upstream_port: int
    timeout: float
    plan: list[Fault] = field(default_factory=list)
    served: list[ServedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, method: str, path: str, headers: dict[str, str] | None = None) -> Fault:
        with self.lock:
            i = len(self.served)
            fault = self.plan[i] if i < len(self.plan) else None
            self.served.append(ServedRequest(method, path, fault, dict(headers or {})))
            return fault


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    """Answer ``handler``'s request with ``body`` as JSON (and any extra ``headers``)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


class _Handler(BaseHTTPRequestHandler):
    """Applies the next fault of the plan, else forwards the request upstream."""

    protocol_version = "HTTP/1.1"
    server: "_Server"

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = state.next_fault(self.command, self.path, dict(self.headers.items()))
        if fault == "drop":
            self.close_connection = True  # the server closes the socket; nothing was written
            return
        if fault == "500":
            return self._json(500, "injected fault: internal server error", "InternalServerError")
        if fault == "429":
            return self._json(429, "injected fault: too many requests", "RateLimitError", {"Retry-After": "1"})
        if fault is not None:  # "slow:S"
            time.sleep(float(fault[5:]))
        self._forward(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _forward(self, body: bytes | None) -> None:
        state = self.server.state
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(state.upstream_host, state.upstream_port, timeout=state.timeout)
        try:
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
            except OSError as err:
                return self._json(502, f"fault proxy: upstream unreachable: {err}", "BadGateway")
            chunked = resp.getheader("Transfer-Encoding", "").lower() == "chunked"
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            if chunked:  # relay a stream (e.g. server-sent events) as it comes
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while chunk := resp.read1(65536):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            else:
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
        finally:
            conn.close()

    def _json(self, status: int, message: str, kind: str, extra: dict[str, str] | None = None) -> None:
        send_json(self, status, {"error": {"message": message, "type": kind, "code": status}}, extra)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the proxy's record is ``FaultProxy.served``


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class FaultProxy:
    """A reverse proxy to ``upstream`` (a base URL such as ``http://127.0.0.1:8000/v1``) that
    applies ``plan`` to its first requests; a context manager (:meth:`start` / :meth:`close`)."""

    def __init__(self, upstream: str, plan: Iterable[Fault] = (), *, timeout: float = 300.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream = upstream
        self._prefix = parts.path.rstrip("/")
        self._state = _State(parts.hostname, parts.port or 80, timeout, [check_fault(f) for f in plan])
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The proxy's base URL: the upstream's path prefix on the proxy's address."""
        return f"http://127.0.0.1:{self.port}{self._prefix}"

    def set_plan(self, plan: Iterable[Fault]) -> None:
        """Apply ``plan`` from the next request on (the counts start again from zero)."""
        checked = [check_fault(f) for f in plan]
        with self._state.lock:
            self._state.plan = checked
            self._state.served = []

    @property
    def served(self) -> list[ServedRequest]:
        """Every request received since the plan was set, in order of arrival."""
        with self._state.lock:
            return list(self._state.served)

    @property
    def requests(self) -> int:
        """How many requests the proxy has received (faulted or forwarded)."""
        return len(self.served)

    @property
    def faults_served(self) -> int:
        """How many of them got a fault (``None`` entries of the plan are not faults)."""
        return sum(r.fault is not None for r in self.served)

    @property
    def forwarded(self) -> int:
        """How many were forwarded upstream (slow ones included)."""
        return sum(r.fault is None or r.fault.startswith("slow:") for r in self.served)

    def start(self) -> "FaultProxy":
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.state = self._state
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fault-proxy",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening (requests in flight finish on their daemon threads)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()
