"""A small JSON client for an OpenAI-compatible server, with retries (standard library only).

Timeouts, refused or dropped connections, HTTP 429 (after ``Retry-After``, when given) and 5xx
are retried with exponential backoff; another 4xx is raised at once with the server's message.
The API key comes from the environment variable the user names and is never logged or recorded.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from dabench.errors import DabenchError

#: errors of the connection itself: the request may be sent again
_TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout)


class EndpointError(DabenchError):
    """The server refused a request, or could not be reached after every retry."""


@dataclass
class EndpointClient:
    """POST/GET JSON to ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``)."""

    base_url: str
    api_key_env: str | None = None
    timeout: float = 120.0
    max_retries: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    #: requests retried so far (all threads), for reports and tests
    retries: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    @property
    def root(self) -> str:
        """The server root (``base_url`` without a trailing ``/v1``): where vLLM serves /tokenize."""
        return self.base_url[:-3] if self.base_url.endswith("/v1") else self.base_url

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def post(self, path: str, payload: dict[str, Any], *, root: bool = False) -> Any:
        return self._request("POST", path, payload, root=root)

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def _request(self, method: str, path: str, payload: dict[str, Any] | None, *, root: bool = False) -> Any:
        url = (self.root if root else self.base_url) + path
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        last = ""
        for attempt in range(self.max_retries + 1):
            wait = min(self.max_backoff, self.backoff * 2 ** attempt)
            try:
                req = urllib.request.Request(url, data=data, method=method, headers=self._headers())
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    body = resp.read()
                return json.loads(body.decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = _server_message(exc)
                if exc.code == 429 or exc.code >= 500:
                    last = f"HTTP {exc.code}{': ' + detail if detail else ''}"
                    retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
                    wait = retry_after if retry_after is not None else wait
                else:
                    raise EndpointError(f"{url}: the server refused the request (HTTP {exc.code}"
                                        f"{': ' + detail if detail else ''})") from None
            except _TRANSIENT as exc:
                last = f"{exc.__class__.__name__}: {getattr(exc, 'reason', None) or exc}"
            except (ValueError, UnicodeDecodeError) as exc:  # a 200 whose body is not JSON
                last = f"not a JSON answer ({exc.__class__.__name__})"
            if attempt < self.max_retries:
                self.retries += 1
                self.sleep(wait)
        raise EndpointError(f"{url}: no answer after {self.max_retries + 1} tries (last: {last}); the answers "
                            "received so far are in the store: rerun the same command to resume")


def _server_message(exc: urllib.error.HTTPError) -> str:
    """The server's error message (OpenAI-style ``{"error": {"message": …}}`` or plain text), one line."""
    try:
        text = exc.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the body is only a detail of the message
        return ""
    try:
        body = json.loads(text)
        err = body.get("error", body) if isinstance(body, dict) else body
        msg = err.get("message", "") if isinstance(err, dict) else str(err)
    except ValueError:
        msg = text
    line = " ".join(str(msg).split())
    return line[:300]


def _retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header given in seconds (an HTTP date is treated as absent)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
