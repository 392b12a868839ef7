"""Fault injection for the replay servers (test and benchmark machinery, not a product feature).

:class:`FaultyReplayServer` and :class:`FaultyGitHubReplayServer` are the package's replay servers with faults in
front of their answers. A :class:`Fault` is matched by ``fnmatch`` pattern against the URL path (without the query)
and can answer a status (e.g. 429 with ``Retry-After``, 500), delay the answer, or send a truncated body (the
connection closes early, as a dropped download does). A fault skips its first ``after`` matching requests, then fires
``times`` times (``None``: for ever); afterwards the path is served normally.

A faulty answer still goes through the server's :meth:`~madlake.sources.replay_server.ReplayServer.finish`, so a
GitHub fault carries an ``ETag`` and rate-limit headers (its own headers win), as GitHub's own errors do.

Example::

    with FaultyReplayServer(root, faults=[Fault("/r/*/new*", status=429, retry_after=1)]) as server:
        client = praw.Reddit(..., oauth_url=server.url, reddit_url=server.url)
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from madlake.sources.github.replay import GitHubReplayServer
from madlake.sources.replay_server import JSON_CONTENT_TYPE, ReplayServer, Request, Response

#: The body GitHub answers a secondary rate limit with: the default body of a GitHub fault.
SECONDARY_RATE_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


@dataclass
class Fault:
    """An injected failure for requests whose path matches ``pattern`` (``fnmatch`` syntax, e.g. ``/comments/*``).

    Attributes:
        pattern: glob matched against the URL path without the query string.
        status: HTTP status to answer instead of the recorded answer (``None``: the recorded answer, e.g. with only
            a delay, a truncation or extra headers).
        times: how many matching requests fail before the path recovers; ``None`` = every request.
        after: how many matching requests pass untouched before the fault starts firing.
        retry_after: seconds for a ``Retry-After`` header (sent with any status).
        delay: seconds to wait before answering.
        truncate: send only the first ``truncate`` bytes of the body while announcing the full length, then close the
            connection (the client sees an incomplete read).
        body: the error body: bytes as they are, anything else JSON-encoded (default: the server's default body).
        headers: extra response headers.
    """

    pattern: str
    status: int | None = 500
    times: int | None = 1
    after: int = 0
    retry_after: float | None = None
    delay: float = 0.0
    truncate: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    fired: int = 0
    skipped: int = 0


@dataclass
class _Truncated(Response):
    truncate: int = 0


class _FaultInjection:
    """Mixin: faults in front of a replay server's ``answer`` and ``write``."""

    def _init_faults(self, faults: Iterable[Fault]) -> None:
        self.faults: list[Fault] = list(faults)
        self._fault_lock = threading.Lock()

    def default_body(self, status: int) -> object:
        return {"error": status, "message": "injected fault"}

    def add_fault(self, fault: Fault) -> Fault:
        with self._fault_lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._fault_lock:
            self.faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._fault_lock:
            for fault in self.faults:
                if not fnmatch.fnmatchcase(path, fault.pattern):
                    continue
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if fault.skipped < fault.after:
                    fault.skipped += 1
                    return None
                fault.fired += 1
                return fault
        return None

    def answer(self, request: Request) -> Response:
        fault = self._take_fault(request.path)
        if fault is None:
            return super().answer(request)  # type: ignore[misc]
        if fault.delay:
            time.sleep(fault.delay)
        headers = dict(fault.headers)
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.status is not None:
            payload = fault.body if fault.body is not None else self.default_body(fault.status)
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            response = Response(fault.status, body, {"Content-Type": JSON_CONTENT_TYPE, **headers})
        else:
            response = super().answer(request)  # type: ignore[misc]
            response.headers.update(headers)
        if fault.truncate is not None:
            return _Truncated(response.status, response.body, response.headers, truncate=fault.truncate)
        return response

    def write(self, handler: BaseHTTPRequestHandler, response: Response) -> None:
        if not isinstance(response, _Truncated):
            super().write(handler, response)  # type: ignore[misc]
            return
        handler.send_response(response.status)
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response.body)))  # the full length, then a cut body
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(response.body[: response.truncate])
        handler.wfile.flush()


class FaultyReplayServer(_FaultInjection, ReplayServer):
    """:class:`~madlake.sources.replay_server.ReplayServer` with :class:`Fault` s; more can be added while running."""

    def __init__(self, root: Path | str, *, faults: Iterable[Fault] = (), **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._init_faults(faults)


class FaultyGitHubReplayServer(_FaultInjection, GitHubReplayServer):
    """:class:`~madlake.sources.github.replay.GitHubReplayServer` with faults; a fault's default body is GitHub's
    secondary-rate-limit message."""

    def __init__(self, root: Path, *, faults: Iterable[Fault] = (), **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._init_faults(faults)

    def default_body(self, status: int) -> object:
        return SECONDARY_RATE_LIMIT

    def inject(
        self,
        prefix: str,
        *,
        status: int = 0,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay_s: float = 0.0,
        times: int = 1,
        after: int = 0,
    ) -> Fault:
        """Answer the next ``times`` requests whose path starts with ``prefix`` (after skipping ``after`` of them)
        with ``status``/``headers``/``body`` (``status=0``: the normal answer, only delayed by ``delay_s``)."""
        fault = Fault(
            prefix + "*",
            status=status or None,
            times=times,
            after=after,
            delay=delay_s,
            body=body,
            headers=dict(headers or {}) if status else {},
        )
        return self.add_fault(fault)
