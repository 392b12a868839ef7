"""Where snapshot files come from: the replay folder, or GitHub (commits API + raw files + the published JSON).

Both return :class:`SnapshotFile` objects named like the recorded history (``<commit date>_<sha10>.json[.gz]``) so
one parser serves both.

* **Replay**: ``<MADLAKE_REPLAY_DIR>/pypi/top-pypi-packages-30-days/<date>_<sha10>.json.gz``, the genuine files
  (a full copy of the public history folder works unchanged) or the bundled trimmed copies.
* **Live**: ``GET /repos/hugovk/top-pypi-packages/commits?path=top-pypi-packages-30-days.json&since&until``
  (paginated through ``Link: rel="next"``; token optional: connection ``github_default`` or ``GITHUB_TOKEN``), then
  the raw file at each commit (``raw.githubusercontent.com/<repo>/<sha>/<path>``). The newest commit's content is
  taken from the published JSON (``hugovk.github.io/top-pypi-packages/top-pypi-packages-30-days.min.json``) when it
  is that commit's data (same ``last_update``), which saves a raw download; its name and sha come from the commit.
  Rate limits (``X-RateLimit-Remaining``/``-Reset``, ``Retry-After``, 429/403) are honoured by
  :class:`madlake.sources.github.client.GitHubClient`. The token is sent to the API only, never to the raw/Pages hosts.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from madlake.sources.github.client import GitHubApiError, GitHubClient, resolve_api_url
from madlake.sources.pypi_monthly.parse import FILE_NAME, SnapshotRejectedError, snapshot_name

log = logging.getLogger(__name__)

REPO = "hugovk/top-pypi-packages"
FILE_PATH = "top-pypi-packages-30-days.json"
#: The replay sub-folder of ``<replay dir>/pypi`` (the recorded history's layout).
REPLAY_SUBDIR = "top-pypi-packages-30-days"


class MonthlySettings(BaseSettings):
    """``MADLAKE_PYPI_MONTHLY_*``: endpoints (tests point them at 127.0.0.1) and timeouts. Never credentials."""

    model_config = SettingsConfigDict(env_prefix="MADLAKE_PYPI_MONTHLY_", frozen=True, extra="ignore")

    api_url: str | None = Field(default=None, description="GitHub API root (default: connection or api.github.com)")
    raw_url: str = "https://raw.githubusercontent.com"
    pages_url: str = "https://hugovk.github.io/top-pypi-packages"
    published_within_days: int = Field(
        default=45, ge=0, description="fetch the published JSON only when the range ends this close to today"
    )
    timeout_s: float = Field(default=60, gt=0)
    max_wait_s: float = Field(default=900, ge=0, description="longest rate-limit wait before failing the task")


@dataclass(frozen=True)
class SnapshotFile:
    """One snapshot file: its name (dated, with the sha) and how to get its content (bytes or decoded JSON)."""

    name: str
    origin: str
    read: Callable[[], Any]

    @property
    def snapshot_date(self) -> date | None:
        try:
            return snapshot_name(self.name)[0]
        except SnapshotRejectedError:
            return None


# --------------------------------------------------------------------------------------------------------------------
# Replay
# --------------------------------------------------------------------------------------------------------------------


def replay_root(replay_dir: Path) -> Path:
    """``<replay dir>/pypi/top-pypi-packages-30-days``."""
    return replay_dir / "pypi" / REPLAY_SUBDIR


def replay_files(root: Path, start: date, end: date) -> list[SnapshotFile]:
    """The files dated ``start`` .. ``end`` (inclusive), by name, plus every file whose name cannot be dated.

    Undatable names are returned (their ``snapshot_date`` is ``None``) so the caller can dead-letter them; a folder
    that does not exist is an error, an empty range is not.

    Raises:
        FileNotFoundError: ``root`` does not exist (the message names it).
    """
    if not root.is_dir():
        raise FileNotFoundError(f"no top-pypi-packages replay folder: expected {root} (set MADLAKE_REPLAY_DIR)")
    out = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        f = SnapshotFile(path.name, str(path), path.read_bytes)
        day = f.snapshot_date
        if day is None or start <= day <= end:
            out.append(f)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Live
# --------------------------------------------------------------------------------------------------------------------


def _next_link(link: str | None) -> str | None:
    for part in (link or "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def _iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LiveSource:
    """GitHub history of the file plus the published JSON; see the module docstring.

    Args:
        settings: endpoints and limits; ``token``: GitHub token (``None``: unauthenticated, 60 calls/hour).
        sleep: how rate-limit waits sleep (tests pass a recorder).
    """

    def __init__(
        self,
        settings: MonthlySettings | None = None,
        token: str | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        today: date | None = None,
    ) -> None:
        self.settings = settings or MonthlySettings()
        kwargs: dict[str, Any] = {
            "sleep": sleep or time.sleep,
            "max_wait_s": self.settings.max_wait_s,
            "timeout_s": self.settings.timeout_s,
        }
        self.api = GitHubClient(self.settings.api_url or resolve_api_url(), token, **kwargs)
        # No token for the raw and Pages hosts: they serve public files and must never see a credential.
        self.raw = GitHubClient(self.settings.raw_url, None, **kwargs)
        self.pages = GitHubClient(self.settings.pages_url, None, **kwargs)
        self.today = today or datetime.now(UTC).date()

    def close(self) -> None:
        for client in (self.api, self.raw, self.pages):
            client.close()

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commits(self, start: date, end: date) -> list[dict[str, Any]]:
        """Commits that changed the file with a commit date in ``start`` .. ``end`` (inclusive), newest first.

        Raises:
            GitHubApiError: a non-200 answer (the message names the URL), or rate limits beyond ``max_wait_s``.
        """
        url: str | None = (
            f"repos/{REPO}/commits?path={FILE_PATH}&since={_iso(start)}&until={_iso(end + timedelta(days=1))}"
            "&per_page=100"
        )
        out: list[dict[str, Any]] = []
        pages = 0
        while url:
            answer = self.api.get(url, conditional=False)
            pages += 1
            if answer.status != 200 or not isinstance(answer.body, list):
                raise GitHubApiError(f"GET {answer.url}: HTTP {answer.status}: {str(answer.body)[:300]}")
            out.extend(c for c in answer.body if isinstance(c, dict) and c.get("sha"))
            url = _next_link(answer.headers.get("Link") or answer.headers.get("link"))
        log.info("GitHub commits of %s %s..%s: %d commits in %d page(s)", FILE_PATH, start, end, len(out), pages)
        return out

    @staticmethod
    def commit_day(commit: dict[str, Any]) -> date | None:
        info = commit.get("commit") or {}
        stamp = (info.get("committer") or {}).get("date") or (info.get("author") or {}).get("date")
        try:
            return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).astimezone(UTC).date()
        except ValueError:
            return None

    def _raw(self, sha: str) -> Any:
        answer = self.raw.get(f"{REPO}/{sha}/{FILE_PATH}", conditional=False)
        if answer.status != 200:
            raise GitHubApiError(f"GET {answer.url}: HTTP {answer.status}")
        return answer.body

    def published(self) -> Any:
        """The published JSON (the newest snapshot).

        Raises:
            GitHubApiError: a non-200 answer.
        """
        answer = self.pages.get("top-pypi-packages-30-days.min.json", conditional=False)
        if answer.status != 200:
            raise GitHubApiError(f"GET {answer.url}: HTTP {answer.status}")
        return answer.body

    def files(self, start: date, end: date) -> list[SnapshotFile]:
        """The snapshot files committed ``start`` .. ``end``, named ``<commit date>_<sha10>.json``, oldest first.

        A commit whose date cannot be read is returned under an undatable name (so it is dead-lettered, not lost).
        """
        commits = self.commits(start, end)
        newest_published: Any = None
        if commits and (self.today - end).days <= self.settings.published_within_days:
            newest_published = self.published()
        out = []
        for i, c in enumerate(commits):
            sha = str(c["sha"])
            day = self.commit_day(c)
            name = f"{day.isoformat()}_{sha[:10]}.json" if day else f"undated_{sha[:10]}.json"
            origin = f"github:{REPO}@{sha[:10]}"
            if i == 0 and day is not None and _published_is(newest_published, day):
                doc = newest_published
                out.append(
                    SnapshotFile(name, f"{self.settings.pages_url} (= {sha[:10]})", functools.partial(same, doc))
                )
                continue
            out.append(SnapshotFile(name, origin, functools.partial(self._raw, sha)))
        return list(reversed(out))


def same(value: Any) -> Any:
    """``value`` itself (a reader for content already fetched)."""
    return value


def _published_is(published: Any, day: date) -> bool:
    """Whether the published JSON is the newest commit's file: its ``last_update`` is on the commit's day.

    The bot generates, commits and publishes in one run, so they agree; when the Pages site lags behind (or the file
    has no ``last_update``) the raw file at the commit is read instead.
    """
    if not isinstance(published, dict) or not isinstance(published.get("last_update"), str):
        return False
    return published["last_update"][:10] == day.isoformat()


__all__ = ["FILE_NAME", "LiveSource", "MonthlySettings", "SnapshotFile", "replay_files", "replay_root"]
