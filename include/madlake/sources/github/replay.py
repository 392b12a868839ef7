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

It is the package's one replay server (:class:`madlake.sources.replay_server.ReplayServer`) answering GitHub's
protocol: :meth:`GitHubReplayServer.answer` finds the recorded answer, :meth:`GitHubReplayServer.finish` adds what
GitHub adds to every answer (``ETag``/``304``, rate-limit headers). Every request is logged in
:attr:`GitHubReplayServer.requests`. The tests inject faults with a subclass (``tests/replay_faults.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, urlsplit

from madlake.sources.replay_server import ReplayServer, Request, Response

log = logging.getLogger(__name__)

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
GITHUB_JSON = "application/json; charset=utf-8"


class ReplayFileError(ValueError):
    """A recorded file cannot be served (not JSON, unreadable); answered as HTTP 422 naming the file."""

    def __init__(self, rel: str, exc: BaseException) -> None:
        super().__init__(f"replay server: recorded file {rel} cannot be served ({type(exc).__name__}: {exc})")
        self.rel = rel


#: The status a broken recording is answered with: a client error, so clients do not retry it as a 5xx.
BROKEN_RECORDING_STATUS = 422


def page_file_name(cursor: str | None) -> str:
    """The file holding the Stargazers page that follows ``cursor`` (``first.json`` for the first page)."""
    return "first.json" if cursor is None else f"{quote(cursor, safe='')}.json"


def github_json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A GitHub-style JSON answer (``payload`` encoded as GitHub does)."""
    return Response(status, json.dumps(payload).encode("utf-8"), {"Content-Type": GITHUB_JSON, **(headers or {})})


class GitHubReplayServer(ReplayServer):
    """Serves one GitHub recordings folder; use as a context manager or call :meth:`start` / :meth:`stop`."""

    thread_name = "github-replay"

    def __init__(self, root: Path, *, port: int = 0, limit: int = 5000) -> None:
        if not Path(root).is_dir():
            raise FileNotFoundError(f"GitHub replay folder {root} does not exist (MADLAKE_REPLAY_DIR/github)")
        super().__init__(root, token_path=None, port=port)
        self.limit = limit
        self.used: dict[str, int] = {"core": 0, "graphql": 0}
        self.reset_at = int(time.time()) + 3600
        self._index: dict[str, Path] = {}
        self.reindex()

    def reindex(self) -> None:
        """Re-read the folder's file list (recordings added or changed while serving)."""
        self._index = {p.relative_to(self.root).as_posix().lower(): p for p in self.root.rglob("*") if p.is_file()}

    def start(self) -> Self:
        super().start()
        log.info("GitHub replay server on %s serving %s (%d files)", self.url, self.root, len(self._index))
        return self

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

    # answers ----------------------------------------------------------------------------------------------------

    def answer(self, request: Request) -> Response:
        """The recorded answer; a broken recording is answered (HTTP 422 naming the file), not a dropped connection."""
        try:
            if request.method == "GET":
                status, headers, body = self.answer_rest(request.path)
            elif request.path.rstrip("/") != "/graphql":
                status, headers, body = 404, {}, NOT_FOUND
            else:
                try:
                    payload = json.loads(request.body or b"{}")
                except ValueError:
                    return github_json(400, {"message": "Problems parsing JSON"})
                status, headers, body = self.answer_graphql(payload)
        except ReplayFileError as exc:
            log.error("%s", exc)
            return github_json(BROKEN_RECORDING_STATUS, {"message": str(exc), "replay_file": exc.rel})
        return github_json(status, body, headers)

    def finish(self, request: Request, response: Response) -> Response:
        """What GitHub adds to every answer: an ``ETag`` on a 200 (a bare ``304`` when ``If-None-Match`` matches, not
        counted against the budget), and the ``X-RateLimit-*`` headers of the request's resource."""
        resource = "graphql" if request.method == "POST" and request.path.rstrip("/") == "/graphql" else "core"
        etag = '"' + hashlib.sha1(response.body, usedforsecurity=False).hexdigest() + '"'
        ok = response.status == 200
        not_modified = ok and request.method == "GET" and request.headers.get("If-None-Match") == etag
        if not_modified:  # like GitHub: a bare 304 (ETag, no Link or other entity headers)
            response = Response(304, b"", {"ETag": etag})
        elif ok:
            response.headers["ETag"] = etag
        if not response.body:
            response.headers.pop("Content-Type", None)
        for key, value in self._rate_headers(resource, count=not not_modified).items():
            response.headers.setdefault(key, value)
        return response


def _not_found(owner: str, name: str, alias: str) -> dict[str, Any]:
    return {
        "type": "NOT_FOUND",
        "path": [alias],
        "locations": [{"line": 1, "column": 1}],
        "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
    }
