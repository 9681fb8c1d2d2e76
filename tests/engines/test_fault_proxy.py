"""The fault proxy against a tiny local upstream that echoes each request as JSON: requests are
forwarded whole (method, path, headers, body) and answers relayed; each fault of the plan is
seen by a plain HTTP client as it should be, in order, after which requests pass through."""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from tests.engines.fault_proxy import FaultProxy, check_fault


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with JSON of what it received; ``/v1/stream`` answers in chunks."""

    protocol_version = "HTTP/1.1"

    def _echo(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/v1/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"data: 1\n\n", b"data: 2\n\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        data = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(201 if self.command == "PUT" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "echo")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _echo

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def upstream() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _request(proxy: FaultProxy, method: str = "GET", path: str = "/v1/models", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_forwards_method_path_headers_and_body(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream)) as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}/v1"
        payload = json.dumps({"prompt": [1, 2, 3]}).encode()
        status, headers, body = _request(proxy, "POST", "/v1/completions?x=1", payload,
                                         {"Content-Type": "application/json", "Authorization": "Bearer k"})
        got = json.loads(body)
        assert status == 200 and headers["X-Upstream"] == "echo"
        assert (got["method"], got["path"], got["body"]) == ("POST", "/v1/completions?x=1", payload.decode())
        assert got["headers"]["authorization"] == "Bearer k"
        assert got["headers"]["content-type"] == "application/json"
        status, _, body = _request(proxy, "PUT", "/v1/x", b"abc")
        assert status == 201 and json.loads(body)["body"] == "abc"
        assert (proxy.requests, proxy.faults_served, proxy.forwarded) == (2, 0, 2)


def test_relays_a_chunked_stream(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream)) as proxy:
        status, headers, body = _request(proxy, "GET", "/v1/stream")
        assert status == 200 and headers["Transfer-Encoding"] == "chunked"
        assert body == b"data: 1\n\ndata: 2\n\n"


def test_drop_closes_the_connection_without_a_response(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), ["drop"]) as proxy:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            _request(proxy, "POST", "/v1/completions", b"{}")
        assert upstream.seen == []  # type: ignore[attr-defined]
        assert _request(proxy)[0] == 200  # the plan is used up: requests pass through


def test_500_answers_a_json_error(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), ["500"]) as proxy:
        status, headers, body = _request(proxy, "POST", "/v1/completions", b"{}")
        assert status == 500 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == 500
        assert upstream.seen == []  # type: ignore[attr-defined]


def test_429_says_retry_after_one_second(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), ["429"]) as proxy:
        status, headers, body = _request(proxy)
        assert status == 429 and headers["Retry-After"] == "1"
        assert json.loads(body)["error"]["code"] == 429


def test_slow_waits_then_forwards(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), ["slow:0.4"]) as proxy:
        t0 = time.monotonic()
        status, _, body = _request(proxy, "POST", "/v1/completions", b"{}")
        assert time.monotonic() - t0 >= 0.4
        assert status == 200 and json.loads(body)["path"] == "/v1/completions"
        assert (proxy.faults_served, proxy.forwarded) == (1, 1)


def test_plan_applies_in_order_then_passes_through(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), ["429", None, "500", "drop"]) as proxy:
        assert _request(proxy)[0] == 429
        assert _request(proxy)[0] == 200
        assert _request(proxy)[0] == 500
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            _request(proxy)
        assert [_request(proxy)[0] for _ in range(3)] == [200] * 3
        assert [r.fault for r in proxy.served] == ["429", None, "500", "drop", None, None, None]
        assert (proxy.requests, proxy.faults_served, proxy.forwarded) == (7, 3, 4)
        assert len(upstream.seen) == 4  # type: ignore[attr-defined]
        proxy.set_plan(["500"])
        assert _request(proxy)[0] == 500 and proxy.requests == 1


def test_keep_alive_connection_passes_through(upstream: ThreadingHTTPServer) -> None:
    with FaultProxy(_base(upstream), [None, "500"]) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        try:
            statuses = []
            for _ in range(3):
                conn.request("GET", "/v1/models")
                resp = conn.getresponse()
                resp.read()
                statuses.append(resp.status)
        finally:
            conn.close()
        assert statuses == [200, 500, 200]


def test_unreachable_upstream_is_a_502_and_close_stops_listening(upstream: ThreadingHTTPServer) -> None:
    dead = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
    upstream.shutdown()
    upstream.server_close()
    with FaultProxy(dead) as proxy:
        status, _, body = _request(proxy)
        assert status == 502 and "unreachable" in json.loads(body)["error"]["message"]
        port = proxy.port
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()


def test_unknown_faults_are_refused() -> None:
    for bad in ("503", "slow:", "slow:x", "slow:-1", "DROP"):
        with pytest.raises(ValueError):
            check_fault(bad)
    with pytest.raises(ValueError):
        FaultProxy("http://127.0.0.1:1/v1", ["timeout"])
    assert check_fault("slow:0.5") == "slow:0.5" and check_fault(None) is None
