"""The live history files by date, from ``raw.githubusercontent.com`` (or any base URL serving the same paths):

    <base>/EvanLi/Github-Ranking/master/Data/github-ranking-<D>.csv              the day's top-100 lists
    <base>/ml-tooling/best-of-ml-python/main/history/<D>_projects.csv            a snapshot, when one is dated D
    <base>/ml-tooling/best-of-python/main/history/<D>_projects.csv

``404`` means "no file for that day" (the ranking skipped a day; best-of snapshots are weekly): :meth:`fetch` returns
None and the caller logs it. 5xx, 429 (honouring ``Retry-After``, capped) and transport errors, including a body cut
short, are retried with exponential backoff up to ``max_attempts``; then :class:`RawFileError` names the URL and
nothing is written (the task fails and Airflow retries it). No token is needed or sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from types import TracebackType

import httpx

from madlake.sources.github_history.parse import BEST_OF_REPOS, RANKING
from madlake.sources.github_history.settings import GitHubHistorySettings, get_history_settings

log = logging.getLogger(__name__)

USER_AGENT = "madlake/0.1 (+https://github.com/madlake) github-history"
#: Longest wait honoured from a ``Retry-After`` header; a longer one fails the attempt budget instead.
MAX_RETRY_AFTER_S = 60.0


class RawFileError(RuntimeError):
    """A file could not be fetched after every attempt (the message names the URL and the last problem)."""


class RawFilesClient:
    """Fetches history files by path with a real ``httpx.Client``. Use as a context manager (closes the client).

    Args:
        settings: base URL, branches, timeout and attempts (default: from the environment).
        transport: an ``httpx`` transport (tests may pass one; the default is the network).
        sleep: how to wait between attempts (tests pass a recorder to avoid real waits).
    """

    def __init__(
        self,
        settings: GitHubHistorySettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or get_history_settings()
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.settings.raw_url.rstrip("/"),
            timeout=self.settings.http_timeout_s,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            transport=transport,
        )
        self.requests = 0
        self.retries = 0
        self.not_found = 0

    def __enter__(self) -> RawFilesClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ---------------------------------------------------------------------------------------------------- paths
    def ranking_path(self, day: date) -> str:
        return f"/{self.settings.ranking_repo}/{self.settings.ranking_ref}/Data/github-ranking-{day.isoformat()}.csv"

    def best_of_path(self, source: str, day: date) -> str:
        return f"/{BEST_OF_REPOS[source]}/{self.settings.best_of_ref}/history/{day.isoformat()}_projects.csv"

    def path(self, source: str, day: date) -> str:
        """The path of ``source``'s file for ``day`` (``github-ranking`` or a best-of source)."""
        return self.ranking_path(day) if source == RANKING else self.best_of_path(source, day)

    # ---------------------------------------------------------------------------------------------------- fetch
    def fetch(self, path: str) -> bytes | None:
        """The body at ``path``, or None when the server answers 404.

        Raises:
            RawFileError: still failing after ``max_attempts`` (5xx, 429, timeouts, truncated bodies), or another
                4xx (which retrying cannot fix).
        """
        attempts = self.settings.max_attempts
        problem = ""
        for attempt in range(1, attempts + 1):
            self.requests += 1
            wait = min(30.0, 0.5 * 2 ** (attempt - 1))
            try:
                response = self._client.get(path)
            except httpx.HTTPError as exc:  # timeouts, refused connections, bodies cut short
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.content
                if response.status_code == 404:
                    self.not_found += 1
                    return None
                problem = f"HTTP {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    raise RawFileError(f"GET {self._client.base_url}{path}: {problem} (not retried)")
                retry_after = _retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    wait = min(MAX_RETRY_AFTER_S, retry_after)
            if attempt < attempts:
                self.retries += 1
                log.warning("GET %s: %s; retry %d of %d in %.1fs", path, problem, attempt, attempts - 1, wait)
                self._sleep(wait)
        raise RawFileError(f"GET {self._client.base_url}{path}: {problem} after {attempts} attempts")

    def fetch_day(self, source: str, day: date) -> bytes | None:
        """``source``'s file for ``day``, or None when there is none."""
        return self.fetch(self.path(source, day))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
