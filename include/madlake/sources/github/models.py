"""Pydantic models of the GitHub API answers madlake reads (REST ``/repos`` and two GraphQL queries).

Frozen, and ``extra="ignore"`` on purpose: GitHub adds fields all the time and we read only the ones we store. Fields
GitHub always sends are required, so a truncated or foreign payload fails validation and goes to the dead letters;
fields madlake may not know (recordings reconstructed from public figures leave unknown ones out) are optional.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class License(_Model):
    spdx_id: str | None = None
    key: str | None = None


class RestRepo(_Model):
    """``GET /repos/{owner}/{repo}`` (or ``/repositories/{id}`` after a rename)."""

    id: int | None = None
    full_name: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    stargazers_count: NonNegativeInt
    forks_count: NonNegativeInt | None = None
    #: The real watcher count. (REST ``watchers_count`` is a legacy alias of the star count.)
    subscribers_count: NonNegativeInt | None = None
    #: Open issues *and* open pull requests: REST counts both.
    open_issues_count: NonNegativeInt | None = None
    archived: bool | None = None
    license: License | None = None
    topics: tuple[str, ...] | None = None
    pushed_at: datetime | None = None
    default_branch: str | None = None


class _Count(_Model):
    totalCount: NonNegativeInt  # noqa: N815 - GraphQL field name


class _Release(_Model):
    tagName: str  # noqa: N815
    publishedAt: datetime | None = None  # noqa: N815


class _History(_Model):
    history: _Count | None = None


class _BranchRef(_Model):
    name: str | None = None
    target: _History | None = None


class GqlRepoMetrics(_Model):
    """One aliased ``repository`` of the ``RepoMetrics`` batch query: what REST cannot give in one call."""

    nameWithOwner: str  # noqa: N815
    pullRequests: _Count | None = None  # noqa: N815
    issues: _Count | None = None
    latestRelease: _Release | None = None  # noqa: N815
    defaultBranchRef: _BranchRef | None = None  # noqa: N815

    @property
    def open_pull_requests(self) -> int | None:
        return self.pullRequests.totalCount if self.pullRequests else None

    @property
    def open_issues(self) -> int | None:
        return self.issues.totalCount if self.issues else None

    @property
    def commits_28d(self) -> int | None:
        ref = self.defaultBranchRef
        if ref is None or ref.target is None or ref.target.history is None:
            return None
        return ref.target.history.totalCount


class _PageInfo(_Model):
    endCursor: str | None = None  # noqa: N815
    hasNextPage: bool  # noqa: N815


class _StarEdge(_Model):
    starredAt: datetime  # noqa: N815


class _Stargazers(_Model):
    pageInfo: _PageInfo  # noqa: N815
    edges: tuple[_StarEdge, ...]


class StargazerPage(_Model):
    """The ``repository`` object of one ``Stargazers`` query page (newest stars first)."""

    nameWithOwner: str  # noqa: N815
    stargazerCount: NonNegativeInt  # noqa: N815
    stargazers: _Stargazers

    @property
    def starred_at(self) -> list[datetime]:
        return [e.starredAt for e in self.stargazers.edges]
