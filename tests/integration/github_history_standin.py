"""A local stand-in for the three hosts the live ``pypi_monthly`` source talks to, on 127.0.0.1.

It serves the bundled genuine snapshot files in GitHub's own shapes:

* ``/api/repos/hugovk/top-pypi-packages/commits?path=...&since&until&per_page&page``: commit objects (``sha``,
  ``commit.committer.date``, ...) for the files whose commit date lies in ``[since, until)``, newest first, paginated
  with a ``Link`` header (``rel="next"``/``"last"``) like api.github.com, and ``X-RateLimit-*`` headers.
* ``/raw/hugovk/top-pypi-packages/<sha>/top-pypi-packages-30-days.json``: the file at that commit.
* ``/pages/top-pypi-packages/top-pypi-packages-30-days.min.json``: the newest file, minified (the GitHub Pages copy).

The recordings keep 10 characters of each sha; the stand-in pads them with zeros to GitHub's 40. Faults: the first
``rate_limit_commits`` commits requests answer 403 with ``X-RateLimit-Remaining: 0`` and a reset one second ahead
(GitHub's primary limit), the first ``throttle_raw`` raw requests 429 with ``Retry-After: 1``. Every request is
recorded (path, query, whether it carried ``Authorization``).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

REPO = "hugovk/top-pypi-packages"
FILE_PATH = "top-pypi-packages-30-days.json"


@dataclass(frozen=True)
class Recorded:
    name: str
    sha: str
    committed_at: datetime
    body: bytes


def _load(folder: Path) -> list[Recorded]:
    out = []
    for path in sorted(folder.glob("*.json.gz")):
        body = gzip.decompress(path.read_bytes())
        doc = json.loads(body)
        stamp = doc.get("last_update") if isinstance(doc, dict) else None
        day = path.name[:10]
        when = datetime.fromisoformat(stamp) if stamp and stamp[:10] == day else datetime.fromisoformat(f"{day}T12:00")
        out.append(Recorded(path.name, path.name[11:21] + "0" * 30, when.replace(tzinfo=UTC), body))
    return out


class GitHubHistoryStandIn:
    def __init__(
        self, folder: Path, *, max_per_page: int = 100, rate_limit_commits: int = 0, throttle_raw: int = 0
    ) -> None:
        self.files = _load(folder)
        self.max_per_page = max_per_page
        self.rate_limit_commits = rate_limit_commits
        self.throttle_raw = throttle_raw
        self.requests: list[dict[str, Any]] = []
        self.remaining = 5000
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GitHubHistoryStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"path": parts.path, "query": query, "auth": h.headers.get("Authorization")})
        if parts.path == f"/api/repos/{REPO}/commits":
            self._commits(h, query)
        elif parts.path.startswith(f"/raw/{REPO}/") and parts.path.endswith(f"/{FILE_PATH}"):
            self._raw(h, parts.path.split("/")[4])
        elif parts.path == "/pages/top-pypi-packages/top-pypi-packages-30-days.min.json":
            newest = max(self.files, key=lambda f: f.committed_at)
            self._send(h, 200, json.dumps(json.loads(newest.body), separators=(",", ":")).encode(), {})
        else:
            self._send(h, 404, b'{"message": "Not Found"}', {})

    def _limits(self) -> dict[str, str]:
        self.remaining -= 1
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "core",
        }

    def _commits(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        with self.lock:
            limited = self.rate_limit_commits > 0
            self.rate_limit_commits -= 1 if limited else 0
        if limited:
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)}
            body = b'{"message": "API rate limit exceeded for 127.0.0.1."}'
            return self._send(h, 403, body, {"X-RateLimit-Limit": "60", "X-RateLimit-Resource": "core", **headers})
        if query.get("path") != FILE_PATH:
            return self._send(h, 200, b"[]", self._limits())
        since = datetime.fromisoformat(query["since"].replace("Z", "+00:00")) if "since" in query else None
        until = datetime.fromisoformat(query["until"].replace("Z", "+00:00")) if "until" in query else None
        hits = [
            f
            for f in sorted(self.files, key=lambda f: f.committed_at, reverse=True)
            if (since is None or f.committed_at >= since) and (until is None or f.committed_at <= until)
        ]
        per_page = min(int(query.get("per_page", 30)), self.max_per_page)
        page = int(query.get("page", 1))
        chunk = hits[(page - 1) * per_page : page * per_page]
        body = [
            {
                "sha": f.sha,
                "commit": {
                    "author": {"name": "Hugo van Kemenade", "date": f.committed_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "committer": {"name": "GitHub", "date": f.committed_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "message": "Update top-pypi-packages",
                },
                "html_url": f"https://github.com/{REPO}/commit/{f.sha}",
            }
            for f in chunk
        ]
        headers = self._limits()
        last = max(1, -(-len(hits) // per_page))
        links = []
        base = f"{self.url}/api/repos/{REPO}/commits"
        if page < last:
            links.append(f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}?{urlencode({**query, "page": last})}>; rel="last"')
        if links:
            headers["Link"] = ", ".join(links)
        self._send(h, 200, json.dumps(body).encode(), headers)

    def _raw(self, h: BaseHTTPRequestHandler, sha: str) -> None:
        with self.lock:
            throttled = self.throttle_raw > 0
            self.throttle_raw -= 1 if throttled else 0
        if throttled:
            return self._send(h, 429, b"429: Too Many Requests", {"Retry-After": "1"})
        for f in self.files:
            if f.sha == sha or (len(sha) >= 7 and f.sha.startswith(sha)):
                return self._send(h, 200, f.body, {})
        self._send(h, 404, b"404: Not Found", {})
