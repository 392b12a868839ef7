"""A local GitHub API stand-in on 127.0.0.1 that replays recorded answers to the real client code.

Layout of ``$MADLAKE_REPLAY_DIR/github/`` (paths match the API; lookups are case-insensitive like GitHub's)::

    _meta.json                                   recorded_on, what is real and what is sample (labels per dataset)
    repos/<owner>/<repo>.json                    GET /repos/{owner}/{repo}: the body of the answer
    repos/<owner>/<repo>.headers.json            optional: {"status": 301, "headers": {"Location": "{base}/..."}}
    repositories/<id>.json                       GET /repositories/{id} (where a rename redirects to)
    repos/<owner>/<repo>/contributors.json       GET .../contributors, query ignored (+ .headers.json with Link)
    graphql/RepoMetrics/<owner>/<repo>.json      the ``repository`` object one alias of the RepoMetrics batch returns
    graphql/Stargazers/<owner>/<repo>/first.json the ``repository`` object of the first Stargazers page
    graphql/Stargazers/<owner>/<repo>/<quote(cursor)>.json   the page after that cursor (urllib quote, safe="")

Protocol behaviour reproduced: ``ETag`` on every 200 and ``304`` for a matching ``If-None-Match`` (not counted
against the budget); ``X-RateLimit-*`` headers per resource (``core``, ``graphql``); redirects from ``.headers.json``
sidecars (``{base}`` becomes this server's URL); GraphQL aliases of a batch assembled from per-repository files, with
``NOT_FOUND`` errors for unknown names; GraphQL follows REST renames (as GitHub does). Anything not recorded is a 404
with GitHub's error body. A recorded file that cannot be served (not JSON, unreadable) is answered with HTTP 422
and a message naming the file (:class:`ReplayFileError`), never by dropping the connection.

Fault injection for tests: :meth:`ReplayServer.inject` makes the next N requests matching a path prefix answer with a
given status and headers (e.g. a secondary rate limit ``403`` with ``Retry-After``), or be delayed. Every request is
logged in :attr:`ReplayServer.requests` as ``(method, path, status)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

log = logging.getLogger(__name__)

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


class ReplayFileError(ValueError):
    """A recorded file cannot be served (not JSON, unreadable); answered as HTTP 422 naming the file."""

    def __init__(self, rel: str, exc: BaseException) -> None:
        super().__init__(f"replay server: recorded file {rel} cannot be served ({type(exc).__name__}: {exc})")
        self.rel = rel


#: The status a broken recording is answered with: a client error, so clients do not retry it as a 5xx.
BROKEN_RECORDING_STATUS = 422


@dataclass
class Fault:
    prefix: str
    status: int = 0
    headers: dict[str, str] | None = None
    body: Any = None
    delay_s: float = 0.0
    remaining: int = 1
    after: int = 0


def page_file_name(cursor: str | None) -> str:
    """The file holding the Stargazers page that follows ``cursor`` (``first.json`` for the first page)."""
    return "first.json" if cursor is None else f"{quote(cursor, safe='')}.json"


class ReplayServer:
    """Serves one recordings folder; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, root: Path, *, port: int = 0, limit: int = 5000) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"GitHub replay folder {self.root} does not exist (MADLAKE_REPLAY_DIR/github)")
        self._index = {p.relative_to(self.root).as_posix().lower(): p for p in self.root.rglob("*") if p.is_file()}
        self.limit = limit
        self.used: dict[str, int] = {"core": 0, "graphql": 0}
        self.reset_at = int(time.time()) + 3600
        self.requests: list[tuple[str, str, int]] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle --------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="github-replay", daemon=True)
        self._thread.start()
        log.info("GitHub replay server on %s serving %s (%d files)", self.url, self.root, len(self._index))
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # test hooks -------------------------------------------------------------------------------------------------

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
    ) -> None:
        """Answer the next ``times`` requests whose path starts with ``prefix`` (after skipping ``after`` of them)
        with ``status``/``headers``/``body`` (``status=0``: the normal answer, only delayed by ``delay_s``)."""
        with self._lock:
            self.faults.append(Fault(prefix, status, headers, body, delay_s, times, after))

    def count(self, prefix: str, status: int | None = None) -> int:
        return sum(1 for _, p, s in self.requests if p.startswith(prefix) and (status is None or s == status))

    # lookups ----------------------------------------------------------------------------------------------------

    def _file(self, rel: str) -> Path | None:
        return self._index.get(rel.lower())

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ReplayFileError(path.relative_to(self.root).as_posix(), exc) from None

    def _load(self, rel: str) -> tuple[int, dict[str, str], Any] | None:
        """The recorded answer at ``rel``; raises :class:`ReplayFileError` naming a file that cannot be served."""
        path = self._file(rel)
        if path is None:
            return None
        status, headers = 200, {}
        sidecar = self._file(rel.removesuffix(".json") + ".headers.json")
        if sidecar is not None:
            meta = self._read_json(sidecar)
            try:
                status = int(meta.get("status", 200))
                headers = {k: str(v).replace("{base}", self.url) for k, v in (meta.get("headers") or {}).items()}
            except (AttributeError, TypeError, ValueError) as exc:
                raise ReplayFileError(sidecar.relative_to(self.root).as_posix(), exc) from None
        return status, headers, self._read_json(path)

    def canonical(self, owner: str, name: str) -> str | None:
        """Follow recorded renames (REST 301 sidecars) to the repository's current ``owner/name``."""
        for _ in range(3):
            loaded = self._load(f"repos/{owner}/{name}.json")
            if loaded is None:
                return None
            status, headers, body = loaded
            if status not in (301, 302, 307, 308):
                return str(body.get("full_name") or f"{owner}/{name}")
            target = urlsplit(headers.get("Location", "")).path.strip("/")
            moved = self._load(f"{target}.json")
            if moved is None:
                return None
            full = str(moved[2].get("full_name", ""))
            if "/" not in full:
                return None
            owner, name = full.split("/", 1)
        return f"{owner}/{name}"

    # answers ----------------------------------------------------------------------------------------------------

    def _rate_headers(self, resource: str, count: bool) -> dict[str, str]:
        with self._lock:
            if count:
                self.used[resource] = self.used.get(resource, 0) + 1
            used = self.used.get(resource, 0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - used)),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Resource": resource,
        }

    def answer_rest(self, path: str) -> tuple[int, dict[str, str], Any]:
        rel = path.strip("/")
        loaded = self._load(f"{rel}.json")
        if loaded is None:
            return 404, {}, NOT_FOUND
        return loaded

    def answer_graphql(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        op = payload.get("operationName")
        variables = payload.get("variables") or {}
        used = self.used.get("graphql", 0) + 1
        data: dict[str, Any] = {"rateLimit": {"cost": 1, "remaining": max(0, self.limit - used), "resetAt": None}}
        errors: list[dict[str, Any]] = []
        if op == "RepoMetrics":
            i = 0
            while f"o{i}" in variables:
                owner, name = variables[f"o{i}"], variables[f"n{i}"]
                canonical = self.canonical(owner, name) or f"{owner}/{name}"
                loaded = self._load(f"graphql/RepoMetrics/{canonical}.json")
                data[f"r{i}"] = loaded[2] if loaded else None
                if loaded is None:
                    errors.append(_not_found(owner, name, f"r{i}"))
                i += 1
        elif op == "Stargazers":
            owner, name = variables.get("owner", ""), variables.get("name", "")
            canonical = self.canonical(owner, name) or f"{owner}/{name}"
            loaded = self._load(f"graphql/Stargazers/{canonical}/{page_file_name(variables.get('after'))}")
            if loaded is None and self._file(f"graphql/Stargazers/{canonical}/first.json") is not None:
                # The repository is recorded but not this page: the recording does not reach back that far.
                return (
                    404,
                    {},
                    {
                        "message": f"replay has no Stargazers page after {variables.get('after')!r} of "
                        f"{canonical} (the recording covers only recent stars)"
                    },
                )
            if loaded is None and self._file(f"repos/{canonical}.json") is not None:
                return (
                    404,
                    {},
                    {
                        "message": f"replay has no Stargazers recording of {canonical} (only "
                        "graphql/Stargazers/<owner>/<repo>/ folders are replayable)"
                    },
                )
            data["repository"] = loaded[2] if loaded else None
            if loaded is None:
                errors.append(_not_found(owner, name, "repository"))
        else:
            return 400, {}, {"message": f"replay server: unsupported GraphQL operation {op!r}"}
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return 200, {}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms ACK stalls

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("replay: %s", format % args)

            def _fault(self, path: str) -> Fault | None:
                with server._lock:
                    for fault in server.faults:
                        if path.startswith(fault.prefix) and fault.remaining > 0:
                            if fault.after > 0:
                                fault.after -= 1
                                return None
                            fault.remaining -= 1
                            return fault
                return None

            def _send(self, method: str, path: str, resource: str, answer: tuple[int, dict[str, str], Any]) -> None:
                status, headers, body = answer
                fault = self._fault(path)
                if fault is not None:
                    if fault.delay_s:
                        time.sleep(fault.delay_s)
                    if fault.status:
                        status, headers = fault.status, dict(fault.headers or {})
                        body = (
                            fault.body
                            if fault.body is not None
                            else {
                                "message": "You have exceeded a secondary rate limit. Please wait a few minutes.",
                                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                            }
                        )
                data = json.dumps(body).encode("utf-8")
                etag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest() + '"'
                not_modified = status == 200 and method == "GET" and self.headers.get("If-None-Match") == etag
                out = dict(headers)
                if status == 200:
                    out["ETag"] = etag
                if not_modified:  # like GitHub: a bare 304 (ETag, no Link or other entity headers)
                    status, data, out = 304, b"", {"ETag": etag}
                rate = server._rate_headers(resource, count=not not_modified)
                for key, value in rate.items():
                    out.setdefault(key, value)
                with server._lock:
                    server.requests.append((method, path, status))
                self.send_response(status)
                for key, value in out.items():
                    self.send_header(key, value)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

            def _answer(self, method: str, path: str, resource: str, build: Any) -> None:
                """Send ``build()``'s answer; a broken recording is answered, never a dropped connection."""
                try:
                    answer = build()
                except ReplayFileError as exc:
                    log.error("%s", exc)
                    answer = (BROKEN_RECORDING_STATUS, {}, {"message": str(exc), "replay_file": exc.rel})
                self._send(method, path, resource, answer)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                self._answer("GET", path, "core", lambda: server.answer_rest(path))

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if path.rstrip("/") != "/graphql":
                    self._send("POST", path, "core", (404, {}, NOT_FOUND))
                    return
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    self._send("POST", path, "graphql", (400, {}, {"message": "Problems parsing JSON"}))
                    return
                self._answer("POST", path, "graphql", lambda: server.answer_graphql(payload))

        return Handler


def _not_found(owner: str, name: str, alias: str) -> dict[str, Any]:
    return {
        "type": "NOT_FOUND",
        "path": [alias],
        "locations": [{"line": 1, "column": 1}],
        "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
    }
