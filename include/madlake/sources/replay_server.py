"""The local HTTP stand-in for a JSON API: serves recorded responses from a folder, on 127.0.0.1.

Replay mode, tests and the demo point the *real* client library (praw, httpx, ...) at this server, so the code under
test speaks the same protocol it speaks in production. This is the one replay server of the package: the Reddit
replay uses it as is, the GitHub replay (:class:`madlake.sources.github.replay.GitHubReplayServer`) subclasses it to
answer GitHub's REST and GraphQL protocol from its recordings folder.

Responses are files laid out by the URL path they answer (the layout of ``MADLAKE_REPLAY_DIR/<source>/``)::

    root/r/LocalLLaMA/new.json      answers  GET /r/LocalLLaMA/new, /r/LocalLLaMA/new/, /r/LocalLLaMA/new.json
    root/comments/1mkowrw.json      answers  GET /comments/1mkowrw/?limit=500&raw_json=1

Resolution of a request path (query string ignored, except ``query_keys``):

1. ``rewrites`` (regex → replacement) are applied in order to the path;
2. with ``query_keys``, ``<path>@k1=v1&k2=v2.json`` is tried first (only the keys present), e.g. a second page;
3. ``<path>``, then ``<path>.json`` (trailing ``/`` and a ``.json`` suffix are both tolerated).

A ``responder`` (e.g. :class:`madlake.sources.reddit.history.RedditHistory`, which serves one recorded day) is
asked first and may answer a path itself; otherwise the files answer. A path with no file answers ``404`` with a
JSON error body, as the real APIs do for removed items; a file that cannot be read answers ``500`` naming it. Paths
never escape ``root``. ``POST`` to ``token_path`` (default Reddit's ``/api/v1/access_token``) answers a dummy bearer
token; any other POST is resolved like a GET. Every request is recorded in :attr:`ReplayServer.requests`.

Three methods shape an answer, and subclasses override them: :meth:`ReplayServer.answer` (what a request is answered
with), :meth:`ReplayServer.finish` (protocol headers added to every answer) and :meth:`ReplayServer.write` (putting
it on the wire). The tests' fault injection (``tests/replay_faults.py``) is such a subclass.

Example::

    with ReplayServer(root, query_keys=("after",)) as server:
        client = praw.Reddit(..., oauth_url=server.url, reddit_url=server.url)
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

REDDIT_TOKEN_PATH = "/api/v1/access_token"  # noqa: S105 - a URL path, not a secret
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

#: ``responder(path, query)`` → ``(status, body, headers)`` to answer, or ``None`` to let the files answer.
Responder = Callable[[str, dict[str, str]], tuple[int, bytes, Mapping[str, str]] | None]


@dataclass(frozen=True)
class Request:
    """One HTTP request as the replay sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message  # the request headers (case-insensitive ``get``)
    body: bytes = b""


@dataclass
class Response:
    """An answer: status, body bytes and headers (``Content-Length`` is added when it is written)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int


def json_response(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})})


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 serving ``root`` by URL path. Use as a context manager.

    Args:
        root: folder of recorded responses.
        rewrites: ``(regex, replacement)`` pairs applied to the path before lookup.
        query_keys: query parameters that select a distinct file (``<path>@key=value.json``), e.g. ``("after",)``.
        token_path: the OAuth token endpoint answered with a dummy token (``None`` to disable).
        headers: headers added to every successful response (e.g. rate-limit headers).
        port: 0 picks a free port.
        responder: consulted before the files (after the token endpoint): returns ``(status, body, headers)`` to
            answer, or ``None`` to fall through to the files (e.g. the Reddit history replay,
            :class:`madlake.sources.reddit.history.RedditHistory`).
    """

    thread_name = "replay-server"

    def __init__(
        self,
        root: Path | str,
        *,
        rewrites: Sequence[tuple[str, str]] = (),
        query_keys: Sequence[str] = (),
        token_path: str | None = REDDIT_TOKEN_PATH,
        headers: Mapping[str, str] | None = None,
        port: int = 0,
        responder: Responder | None = None,
    ) -> None:
        self.responder = responder
        self.root = Path(root).resolve()
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

    def start(self) -> Self:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------------ answers
    def answer(self, request: Request) -> Response:
        """What ``request`` is answered with: the token endpoint, then the responder, then the files."""
        if request.method == "POST" and self.token_path is not None and request.path.rstrip("/") == self.token_path:
            token = {"access_token": "replay-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}
            return json_response(200, token)
        if self.responder is not None:
            answered = self.responder(request.path, request.query)
            if answered is not None:
                status, body, extra = answered
                return Response(status, body, {"Content-Type": JSON_CONTENT_TYPE, **extra})
        file = self.resolve(request.path, request.query)
        if file is None:
            return json_response(404, {"message": "Not Found", "error": 404})
        try:
            return Response(200, file.read_bytes(), {"Content-Type": JSON_CONTENT_TYPE})
        except OSError as exc:
            rel = file.relative_to(self.root).as_posix()
            message = f"replay server: recorded file {rel} cannot be read ({exc.strerror or exc})"
            log.error("%s", message)
            return json_response(500, {"message": message, "replay_file": rel})

    def finish(self, request: Request, response: Response) -> Response:
        """Headers every answer of this protocol carries: here, ``headers`` on successful answers."""
        if response.status == 200:
            response.headers = {**self.headers, **response.headers}
        return response

    def write(self, handler: BaseHTTPRequestHandler, response: Response) -> None:
        """Send ``response`` on ``handler``'s connection (keep-alive: the length is always announced)."""
        handler.send_response(response.status)
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        if response.body:
            handler.wfile.write(response.body)
        handler.wfile.flush()

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

    # ------------------------------------------------------------------------------------------------ the log
    def record(self, request: Request, status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(request.method, request.path, request.query, status))

    def paths_requested(self, method: str = "GET") -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if r.method == method]

    def count(self, prefix: str, status: int | None = None) -> int:
        """How many requests had a path starting with ``prefix`` (and were answered ``status``, if given)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(prefix) and status in (None, r.status))


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms per request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            log.debug("replay %s %s", self.address_string(), format % args)

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=method,
                path=parts.path or "/",
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers=self.headers,
                body=self.rfile.read(length) if length else b"",
            )
            response = server.finish(request, server.answer(request))
            server.record(request, response.status)
            server.write(self, response)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler
