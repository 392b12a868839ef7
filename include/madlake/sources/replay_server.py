"""A local HTTP stand-in for a JSON API: serves recorded responses from a folder, with fault injection.

Replay mode, tests and the demo point the *real* client library (praw, httpx, ...) at this server on 127.0.0.1, so
the code under test speaks the same protocol it speaks in production. Responses are files laid out by the URL path
they answer::

    root/r/LocalLLaMA/new.json      answers  GET /r/LocalLLaMA/new, /r/LocalLLaMA/new/, /r/LocalLLaMA/new.json
    root/comments/1mkowrw.json      answers  GET /comments/1mkowrw/?limit=500&raw_json=1

Resolution of a request path (query string ignored, except ``query_keys``):

1. ``rewrites`` (regex → replacement) are applied in order to the path;
2. with ``query_keys``, ``<path>@k1=v1&k2=v2.json`` is tried first (only the keys present), e.g. a second page;
3. ``<path>``, then ``<path>.json`` (trailing ``/`` and a ``.json`` suffix are both tolerated).

A ``responder`` (e.g. :class:`madlake.sources.reddit.history.RedditHistory`, which serves one recorded day) is
asked first and may answer a path itself; otherwise the files answer. A path with no file answers ``404`` with a
JSON error body, as the real APIs do for removed items. Paths never escape ``root``. ``POST`` to ``token_path``
(default Reddit's ``/api/v1/access_token``) answers a dummy bearer token; any other POST is resolved like a GET.
Every request is recorded in :attr:`ReplayServer.requests`.

Faults (:class:`Fault`) are matched by ``fnmatch`` pattern against the path (without query) and can answer a status
(e.g. 429 with ``Retry-After``, 500), delay the answer, or send a truncated body (the connection closes early, as a
dropped download does). A fault fires ``times`` times (``None``: for ever), then the path is served normally.

Example::

    with ReplayServer(root, faults=[Fault("/r/*/new*", status=429, retry_after=1)]) as server:
        client = praw.Reddit(..., oauth_url=server.url, reddit_url=server.url)
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

REDDIT_TOKEN_PATH = "/api/v1/access_token"  # noqa: S105 - a URL path, not a secret


@dataclass
class Fault:
    """An injected failure for requests whose path matches ``pattern`` (``fnmatch`` syntax, e.g. ``/comments/*``).

    Attributes:
        pattern: glob matched against the URL path without the query string.
        status: HTTP status to answer instead of the file (``None``: serve the file, e.g. with only a delay or a
            truncation).
        times: how many matching requests fail before the path recovers; ``None`` = every request.
        retry_after: seconds for a ``Retry-After`` header (sent with any status).
        delay: seconds to wait before answering.
        truncate: send only the first ``truncate`` bytes of the body while announcing the full length, then close the
            connection (the client sees an incomplete read).
        body: the error body (default: a JSON object naming the status).
        headers: extra response headers.
    """

    pattern: str
    status: int | None = 500
    times: int | None = 1
    retry_after: float | None = None
    delay: float = 0.0
    truncate: int | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    fired: int = 0

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern) and (self.times is None or self.fired < self.times)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 serving ``root`` by URL path. Use as a context manager.

    Args:
        root: folder of recorded responses.
        faults: initial faults; more can be added while running with :meth:`add_fault`.
        rewrites: ``(regex, replacement)`` pairs applied to the path before lookup.
        query_keys: query parameters that select a distinct file (``<path>@key=value.json``), e.g. ``("after",)``.
        token_path: the OAuth token endpoint answered with a dummy token (``None`` to disable).
        headers: headers added to every successful response (e.g. rate-limit headers).
        port: 0 picks a free port.
        responder: consulted before the files (after faults and the token endpoint): ``responder(path, query)``
            returns ``(status, body, headers)`` to answer, or ``None`` to fall through to the files (e.g. the Reddit
            history replay, :class:`madlake.sources.reddit.history.RedditHistory`).
    """

    def __init__(
        self,
        root: Path | str,
        *,
        faults: Iterable[Fault] = (),
        rewrites: Sequence[tuple[str, str]] = (),
        query_keys: Sequence[str] = (),
        token_path: str | None = REDDIT_TOKEN_PATH,
        headers: Mapping[str, str] | None = None,
        port: int = 0,
        responder: Callable[[str, dict[str, str]], tuple[int, bytes, Mapping[str, str]] | None] | None = None,
    ) -> None:
        self.responder = responder
        self.root = Path(root).resolve()
        self.faults: list[Fault] = list(faults)
        self.rewrites = [(re.compile(p), r) for p, r in rewrites]
        self.query_keys = tuple(query_keys)
        self.token_path = token_path
        self.headers = dict(headers or {})
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("replay server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> ReplayServer:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="replay-server", daemon=True
        )
        self._thread.start()
        log.info("Replay server for %s listening on %s", self.root, self.url)
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------------ behaviour
    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def resolve(self, path: str, query: Mapping[str, str] | None = None) -> Path | None:
        """The file answering ``path`` (URL path, no query), or ``None``. Never returns a file outside ``root``."""
        path = unquote(path)
        for pattern, replacement in self.rewrites:
            path = pattern.sub(replacement, path)
        rel = path.strip("/")
        if rel.endswith(".json"):
            rel = rel[: -len(".json")]
        if not rel:
            return None
        candidates = []
        picked = [(k, query[k]) for k in self.query_keys if query and k in query]
        if picked:
            candidates.append(rel + "@" + "&".join(f"{k}={v}" for k, v in picked) + ".json")
        candidates += [rel, rel + ".json"]
        for candidate in candidates:
            file = (self.root / candidate).resolve()
            if file.is_file() and file.is_relative_to(self.root):
                return file
        return None

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(path):
                    fault.fired += 1
                    return fault
        return None

    def _record(self, method: str, path: str, query: dict[str, str], status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, status))

    def paths_requested(self, method: str = "GET") -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if r.method == method]


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms per request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            log.debug("replay %s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, headers: Mapping[str, str], truncate: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            if truncate is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body if truncate is None else body[:truncate])
            self.wfile.flush()

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path or "/"
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # drain the request body (form data, JSON)
            fault = server._take_fault(path)
            headers: dict[str, str] = {}
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                headers.update(fault.headers)
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                if fault.status is not None:
                    body = fault.body or json.dumps({"error": fault.status, "message": "injected fault"}).encode()
                    server._record(method, path, query, fault.status)
                    self._send(fault.status, body, headers, fault.truncate)
                    return
            if method == "POST" and server.token_path is not None and path.rstrip("/") == server.token_path:
                body = json.dumps(
                    {"access_token": "replay-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}
                ).encode()
                server._record(method, path, query, 200)
                self._send(200, body, headers)
                return
            if server.responder is not None:
                answer = server.responder(path, query)
                if answer is not None:
                    status, body, extra = answer
                    server._record(method, path, query, status)
                    ok = {**server.headers, **extra} if status == 200 else dict(extra)
                    self._send(status, body, {**ok, **headers}, fault.truncate if fault else None)
                    return
            file = server.resolve(path, query)
            if file is None:
                server._record(method, path, query, 404)
                self._send(404, json.dumps({"message": "Not Found", "error": 404}).encode(), headers)
                return
            server._record(method, path, query, 200)
            self._send(200, file.read_bytes(), {**server.headers, **headers}, fault.truncate if fault else None)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler
