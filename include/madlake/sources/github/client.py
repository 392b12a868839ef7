"""A quota-aware GitHub REST + GraphQL client over httpx. Live and replay use this same code; only the base URL differs.

What it does for every request:

* **Primary rate limit**: reads ``X-RateLimit-Remaining`` / ``-Reset`` / ``-Resource`` of every answer. When a
  resource's remaining budget is known to be 0, the next call waits for the reset (at most ``max_wait_s``); a longer
  wait raises :class:`QuotaExhaustedError` so the Airflow task fails and is retried later instead of hogging a worker.
* **Secondary rate limits**: a 403/429 with ``Retry-After`` waits that many seconds and retries; a 403/429 saying
  "secondary rate limit" without the header waits 60 s, doubling (GitHub's documented advice). At most ``max_attempts``.
* **Conditional requests**: REST GETs send ``If-None-Match`` with the ETag cached from the last 200; a ``304`` reuses
  the cached body and costs no quota.
* **Renames**: a ``301`` (GitHub's answer for a renamed or transferred repository) is followed by hand (≤ 3 hops) so
  the requested and the canonical name can both be recorded.
* 5xx and transport errors are retried with exponential backoff; other 4xx are returned to the caller (404 = the
  repository does not exist) or raised (401: a bad token, which retrying cannot fix).

Calls are counted in :attr:`GitHubClient.stats` and logged by the pipelines at the end of a run. The token is only
put in the ``Authorization`` header, never logged.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from madlake.names import Conn
from madlake.redaction import RedactedError, register_secret
from madlake.sources.github.state import EtagCache

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = "madlake/0.1 (+https://github.com/madlake)"
API_VERSION = "2022-11-28"
#: Repositories per ``RepoMetrics`` GraphQL query (aliases ``r0..rN``); 25 keeps the query's point cost at 1.
GRAPHQL_BATCH = 25
STARGAZER_PAGE_SIZE = 100
#: Response headers kept with a cached body, because a 304 may omit them (the contributor count is in ``Link``).
CACHED_HEADERS = ("Link",)


class GitHubApiError(RedactedError, RuntimeError):
    """GitHub answered with an error madlake cannot handle by waiting (the message names the request)."""


class QuotaExhaustedError(GitHubApiError):
    """The rate limit is exhausted and resets later than the client is allowed to wait."""


@dataclass
class CallStats:
    """Calls made by one client; logged at the end of each run."""

    rest_calls: int = 0
    rest_not_modified: int = 0
    graphql_calls: int = 0
    graphql_cost: int = 0
    redirects: int = 0
    retries: int = 0
    waits: int = 0
    waited_s: float = 0.0
    remaining: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rest_calls": self.rest_calls,
            "rest_not_modified": self.rest_not_modified,
            "graphql_calls": self.graphql_calls,
            "graphql_cost": self.graphql_cost,
            "redirects": self.redirects,
            "retries": self.retries,
            "waits": self.waits,
            "waited_s": round(self.waited_s, 2),
            "remaining": dict(self.remaining),
        }


@dataclass(frozen=True)
class RestAnswer:
    """A REST GET after redirects and conditional handling."""

    status: int
    body: Any
    url: str
    headers: dict[str, str]
    not_modified: bool = False
    redirected_from: tuple[str, ...] = ()


def resolve_token() -> str | None:
    """The API token: the password of Airflow connection ``Conn.GITHUB``, else ``$GITHUB_TOKEN``, else ``None``."""
    try:
        from airflow.sdk import Connection  # noqa: PLC0415 - optional: outside a task the environment answers

        conn = Connection.get(Conn.GITHUB)
        if conn is not None and conn.password:
            register_secret(str(conn.password))
            return str(conn.password)
    except Exception as exc:
        log.debug("No Airflow connection %s (%s); trying GITHUB_TOKEN", Conn.GITHUB, type(exc).__name__)
    return os.environ.get("GITHUB_TOKEN") or None


def resolve_api_url() -> str:
    """The API root: the ``host`` of connection ``Conn.GITHUB`` (GitHub Enterprise), else ``api.github.com``."""
    try:
        from airflow.sdk import Connection  # noqa: PLC0415 - optional: outside a task the environment answers

        conn = Connection.get(Conn.GITHUB)
        if conn is not None and conn.host and conn.host.startswith("http"):
            return str(conn.host).rstrip("/")
    except Exception:  # noqa: S110 - see resolve_token
        pass
    return DEFAULT_API_URL


def _last_page(link: str | None) -> int | None:
    """The ``page`` number of the ``rel="last"`` link of a paginated answer (``None`` without one)."""
    if not link:
        return None
    for part in link.split(","):
        if 'rel="last"' in part:
            match = re.search(r"[?&]page=(\d+)", part)
            if match:
                return int(match.group(1))
    return None


class GitHubClient:
    """GitHub REST + GraphQL with quota handling, conditional requests and rename following.

    Args:
        base_url: API root (``https://api.github.com``, a GitHub Enterprise ``/api/v3`` root, or a replay server).
        token: bearer token; ``None`` works for replay and, at 60 calls/hour, for public data.
        etag_cache: where ETags and bodies of 200 answers are kept between runs (``None``: no conditional requests).
        sleep: how to wait (tests pass a recorder); ``max_wait_s``: the longest single wait before giving up.
        max_attempts: attempts per request across rate-limit waits, 5xx and transport errors.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        etag_cache: EtagCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 900.0,
        max_attempts: int = 6,
        timeout_s: float = 30.0,
        graphql_url: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # api.github.com/graphql; GitHub Enterprise: <host>/api/graphql for an <host>/api/v3 REST root.
        if graphql_url is None:
            root = self.base_url[: -len("/v3")] if self.base_url.endswith("/api/v3") else self.base_url
            graphql_url = f"{root}/graphql"
        self.graphql_url = graphql_url
        self.etag_cache = etag_cache
        self.sleep = sleep
        self.max_wait_s = max_wait_s
        self.max_attempts = max_attempts
        self.stats = CallStats()
        self._reset_at: dict[str, float] = {}
        headers = {
            "Accept": "application/vnd.github+json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Api-Version": API_VERSION,
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout_s, follow_redirects=False)

    # ---------------------------------------------------------------------------------------------------------------
    # plumbing
    # ---------------------------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        if seconds > self.max_wait_s:
            raise QuotaExhaustedError(
                f"GitHub {why}: would have to wait {seconds:.0f}s (> {self.max_wait_s:.0f}s allowed); "
                "failing so the task is retried later"
            )
        log.warning("GitHub %s: waiting %.1fs", why, seconds)
        self.stats.waits += 1
        self.stats.waited_s += seconds
        self.sleep(seconds)

    def _track(self, resp: httpx.Response) -> str:
        resource = resp.headers.get("X-RateLimit-Resource", "core")
        remaining = resp.headers.get("X-RateLimit-Remaining")
        reset = resp.headers.get("X-RateLimit-Reset")
        if remaining is not None and remaining.isdigit():
            self.stats.remaining[resource] = int(remaining)
        if reset is not None and reset.isdigit():
            self._reset_at[resource] = float(reset)
        return resource

    def _before(self, resource: str) -> None:
        """Wait for the reset when this resource's primary budget is known to be spent."""
        if self.stats.remaining.get(resource, 1) > 0:
            return
        reset = self._reset_at.get(resource)
        if reset is None:
            return
        self._wait(reset - time.time() + 1, f"primary rate limit ({resource}) exhausted until reset")
        self.stats.remaining.pop(resource, None)

    @staticmethod
    def _retry_after(resp: httpx.Response) -> float | None:
        value = resp.headers.get("Retry-After")
        if value is None:
            return None
        if value.strip().isdigit():
            return float(value)
        try:
            return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None

    def _send(self, method: str, url: str, resource: str, **kwargs: Any) -> httpx.Response:  # noqa: PLR0912
        """One request with the retry/wait policy of the module docstring. Returns any non-retryable answer."""
        backoff = 1.0
        secondary_wait = 60.0
        last: str = ""
        for attempt in range(1, self.max_attempts + 1):
            self._before(resource)
            try:
                resp = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                self.stats.retries += 1
                if attempt < self.max_attempts:
                    self._wait(backoff, f"transport error on {method} {url} ({last})")
                    backoff *= 2
                continue
            if resource == "graphql":
                self.stats.graphql_calls += 1
            else:
                self.stats.rest_calls += 1
            got = self._track(resp)
            if resp.status_code in (403, 429):
                text = resp.text[:300]
                wait = self._retry_after(resp)
                if wait is None and resp.headers.get("X-RateLimit-Remaining") == "0":
                    wait = self._reset_at.get(got, time.time() + 60) - time.time() + 1
                elif wait is None and (resp.status_code == 429 or "rate limit" in text.lower()):
                    wait = secondary_wait
                    secondary_wait *= 2
                if wait is None:
                    return resp  # a plain 403 (e.g. a repository blocked for legal reasons): the caller decides
                last = f"HTTP {resp.status_code}: {text}"
                self.stats.retries += 1
                if attempt < self.max_attempts:
                    self._wait(wait, f"rate limited on {method} {url} ({resp.status_code})")
                    self.stats.remaining.pop(got, None)
                continue
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                self.stats.retries += 1
                if attempt < self.max_attempts:
                    self._wait(backoff, f"server error on {method} {url} ({resp.status_code})")
                    backoff *= 2
                continue
            if resp.status_code == 401:
                raise GitHubApiError(f"{method} {url}: 401 Unauthorized - check the token of connection {Conn.GITHUB}")
            return resp
        raise GitHubApiError(f"{method} {url} failed after {self.max_attempts} attempts; last answer: {last}")

    def relative_url(self, url: str) -> str:
        """The ETag cache key: the URL relative to the API root (a replay server's port changes between runs)."""
        return url[len(self.base_url) :] if url.startswith(self.base_url) else url

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    # ---------------------------------------------------------------------------------------------------------------
    # REST
    # ---------------------------------------------------------------------------------------------------------------

    def get(self, path: str, *, conditional: bool = True, max_redirects: int = 3) -> RestAnswer:
        """GET a REST path (``repos/o/r``, query string included), following 301/302/307 by hand.

        Returns the final answer; ``body`` is the parsed JSON (``None`` for an empty body). A 304 returns the cached
        body with ``not_modified=True``.
        """
        url = self._url(path)
        hops: list[str] = []
        for _ in range(max_redirects + 1):
            headers: dict[str, str] = {}
            cache = self.etag_cache if conditional else None
            cached = cache.get(self.relative_url(url)) if cache is not None else None
            if cached is not None:
                headers["If-None-Match"] = cached[0]
            resp = self._send("GET", url, "core", headers=headers)
            if resp.status_code in (301, 302, 307, 308):
                location = resp.headers.get("Location")
                if not location:
                    raise GitHubApiError(f"GET {url}: {resp.status_code} without a Location header")
                self.stats.redirects += 1
                hops.append(url)
                log.info("GitHub redirected %s -> %s (renamed or transferred repository)", url, location)
                url = self._url(location)
                continue
            if resp.status_code == 304 and cached is not None:
                self.stats.rest_not_modified += 1
                # A 304 need not repeat entity headers such as Link: use the ones stored with the body.
                return RestAnswer(304, cached[1], url, {**cached[2], **resp.headers}, True, tuple(hops))
            body = resp.json() if resp.content else None
            if resp.status_code == 200 and conditional and self.etag_cache is not None and resp.headers.get("ETag"):
                kept = {k: resp.headers[k] for k in CACHED_HEADERS if k in resp.headers}
                self.etag_cache.put(self.relative_url(url), resp.headers["ETag"], body, kept)
            return RestAnswer(resp.status_code, body, url, dict(resp.headers), False, tuple(hops))
        raise GitHubApiError(f"GET {path}: more than {max_redirects} redirects")

    def repo(self, full_name: str) -> RestAnswer:
        """``GET /repos/{owner}/{repo}`` (renames followed; ``status`` 404 when the repository does not exist)."""
        return self.get(f"repos/{full_name}")

    def contributors_count(self, full_name: str) -> int | None:
        """Contributors including anonymous ones: one call, ``per_page=1``, read the ``rel="last"`` page number.

        ``None`` when GitHub cannot say (404, or 403 "too large to list" on huge histories); 204 = an empty repo = 0.
        """
        answer = self.get(f"repos/{full_name}/contributors?per_page=1&anon=1")
        if answer.status == 204:
            return 0
        if answer.status not in (200, 304):
            log.info("Contributors of %s unavailable (HTTP %s)", full_name, answer.status)
            return None
        last = _last_page(answer.headers.get("Link") or answer.headers.get("link"))
        if last is not None:
            return last
        return len(answer.body) if isinstance(answer.body, list) else None

    # ---------------------------------------------------------------------------------------------------------------
    # GraphQL
    # ---------------------------------------------------------------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any], operation_name: str) -> dict[str, Any]:
        """POST a GraphQL query; returns the whole answer (``data`` and possibly ``errors``, e.g. ``NOT_FOUND``).

        GraphQL reports its own primary limit as HTTP 200 with an error of type ``RATE_LIMITED``: the client then
        waits for the ``graphql`` reset (or 60 s when the headers do not say) and retries, like a REST 403.

        Raises:
            GitHubApiError: on a non-200 answer, or when the answer has ``errors`` and no ``data`` at all.
        """
        payload = {"query": query, "variables": variables, "operationName": operation_name}
        for _ in range(self.max_attempts):
            resp = self._send("POST", self.graphql_url, "graphql", json=payload)
            if resp.status_code != 200:
                raise GitHubApiError(f"GraphQL {operation_name}: HTTP {resp.status_code}: {resp.text[:300]}")
            answer = resp.json()
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if not any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors or []):
                break
            self.stats.retries += 1
            if self.stats.remaining.get("graphql") != 0:
                self._wait(60.0, f"GraphQL {operation_name} RATE_LIMITED")
            # else: the next _send waits for the reset the headers announced
        else:
            raise GitHubApiError(f"GraphQL {operation_name}: still RATE_LIMITED after {self.max_attempts} attempts")
        if not isinstance(answer, dict) or (answer.get("data") is None and answer.get("errors")):
            raise GitHubApiError(f"GraphQL {operation_name}: {str(answer)[:500]}")
        cost = ((answer.get("data") or {}).get("rateLimit") or {}).get("cost")
        self.stats.graphql_cost += int(cost) if isinstance(cost, int) else 1
        return answer

    def repo_metrics(self, full_names: Sequence[str], since: datetime) -> dict[str, dict[str, Any] | None]:
        """The ``RepoMetrics`` fields for many repositories, ``GRAPHQL_BATCH`` per query (aliases ``r0..rN``).

        Returns ``{full_name: repository object or None}``; ``None`` when GitHub could not resolve the name.
        """
        out: dict[str, dict[str, Any] | None] = {}
        for start in range(0, len(full_names), GRAPHQL_BATCH):
            batch = list(full_names[start : start + GRAPHQL_BATCH])
            variables: dict[str, Any] = {"since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for i, name in enumerate(batch):
                owner, repo = name.split("/", 1)
                variables[f"o{i}"], variables[f"n{i}"] = owner, repo
            answer = self.graphql(repo_metrics_query(len(batch)), variables, "RepoMetrics")
            data = answer.get("data") or {}
            for err in answer.get("errors") or []:
                log.info("GraphQL RepoMetrics: %s", err.get("message"))
            for i, name in enumerate(batch):
                out[name] = data.get(f"r{i}")
        return out

    def stargazer_page(self, full_name: str, after: str | None) -> dict[str, Any] | None:
        """One page of a repository's stargazers, newest first (``None``: GitHub cannot resolve the name)."""
        owner, repo = full_name.split("/", 1)
        variables = {"owner": owner, "name": repo, "after": after, "first": STARGAZER_PAGE_SIZE}
        answer = self.graphql(STARGAZERS_QUERY, variables, "Stargazers")
        return (answer.get("data") or {}).get("repository")


REPO_METRICS_FRAGMENT = """
fragment RepoMetricsFields on Repository {
  nameWithOwner
  pullRequests(states: OPEN) { totalCount }
  issues(states: OPEN) { totalCount }
  latestRelease { tagName publishedAt }
  defaultBranchRef { name target { ... on Commit { history(since: $since) { totalCount } } } }
}
"""


def repo_metrics_query(n: int) -> str:
    """The ``RepoMetrics`` query for ``n`` repositories (variables ``$since``, ``$o0/$n0`` ... ``$o{n-1}/$n{n-1}``)."""
    params = ", ".join(["$since: GitTimestamp!"] + [f"$o{i}: String!, $n{i}: String!" for i in range(n)])
    fields = "\n".join(f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...RepoMetricsFields }}" for i in range(n))
    return f"query RepoMetrics({params}) {{\n  rateLimit {{ cost remaining resetAt }}\n{fields}\n}}\n" + (
        REPO_METRICS_FRAGMENT
    )


# Newest first: a backfill "since D" stops at the first star older than D instead of paging the whole history.
# GraphQL cursors have no page cap (REST /stargazers stops at 400 pages = 40,000 stars).
STARGAZERS_QUERY = """
query Stargazers($owner: String!, $name: String!, $after: String, $first: Int!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    stargazerCount
    stargazers(first: $first, after: $after, orderBy: {field: STARRED_AT, direction: DESC}) {
      pageInfo { endCursor hasNextPage }
      edges { starredAt }
    }
  }
}
"""
