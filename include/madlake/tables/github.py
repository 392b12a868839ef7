"""GitHub tables: a daily snapshot of every tracked repository, and daily star history from the stargazer backfill."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DateType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from madlake.names import Table
from madlake.tables.spec import TableSpec

GITHUB_REPO_SNAPSHOTS = TableSpec(
    name=Table.GITHUB_REPO_SNAPSHOTS,
    schema=Schema(
        NestedField(1, "snapshot_date", DateType(), required=True, doc="the day the run covers (figures as fetched)"),
        NestedField(2, "repo", StringType(), required=True, doc="canonical owner/name as GitHub reports it now"),
        NestedField(3, "tool_id", StringType(), required=True, doc="the tracked tool (dim_tools.tool_id)"),
        NestedField(4, "requested_repo", StringType(), required=True, doc="owner/name as listed in the catalog"),
        NestedField(5, "renamed_from", StringType(), required=False, doc="requested name when GitHub redirected"),
        NestedField(6, "repo_id", LongType(), required=False, doc="GitHub's numeric repository id"),
        NestedField(7, "stars", LongType(), required=True),
        NestedField(8, "forks", LongType(), required=False),
        NestedField(9, "watchers", LongType(), required=False, doc="subscribers_count (people watching)"),
        NestedField(10, "open_issues_and_prs", LongType(), required=False, doc="REST open_issues_count: both"),
        NestedField(11, "open_issues", LongType(), required=False, doc="open issues only (GraphQL)"),
        NestedField(12, "open_pull_requests", LongType(), required=False, doc="open pull requests (GraphQL)"),
        NestedField(13, "latest_release_tag", StringType(), required=False),
        NestedField(14, "latest_release_at", TimestamptzType(), required=False),
        NestedField(15, "pushed_at", TimestamptzType(), required=False, doc="last push to any branch"),
        NestedField(16, "default_branch", StringType(), required=False),
        NestedField(17, "commits_28d", IntegerType(), required=False, doc="default-branch commits in the last 28 days"),
        NestedField(18, "contributors", IntegerType(), required=False, doc="contributors including anonymous"),
        NestedField(19, "archived", BooleanType(), required=False),
        NestedField(20, "license", StringType(), required=False, doc="SPDX id"),
        NestedField(21, "topics", ListType(22, StringType(), element_required=True), required=False),
        NestedField(23, "not_modified", BooleanType(), required=True, doc="GitHub answered 304: unchanged since"),
        NestedField(24, "fetched_at", TimestamptzType(), required=True),
        NestedField(25, "origin", StringType(), required=True, doc="live, or replay (recorded real figures)"),
    ),
    partition=(("snapshot_date", "month"),),
    sort=("snapshot_date", "repo"),
    key=("snapshot_date", "repo"),
    doc=(
        "One row per tracked GitHub repository per day: stars, forks, watchers, open issues and pull requests, latest "
        "release, last push, 28-day commits, contributors, archived, license, topics. Renamed repositories appear "
        "under their current name with renamed_from set. Rerunning a day replaces that day's rows."
    ),
)

GITHUB_STARS_DAILY = TableSpec(
    name=Table.GITHUB_STARS_DAILY,
    schema=Schema(
        NestedField(1, "repo", StringType(), required=True, doc="canonical owner/name"),
        NestedField(2, "star_date", DateType(), required=True, doc="UTC day"),
        NestedField(3, "new_stars", IntegerType(), required=True, doc="current stargazers who starred that day"),
        NestedField(4, "cumulative_stars", LongType(), required=True, doc="current stargazers by the end of the day"),
        NestedField(5, "tool_id", StringType(), required=False),
        NestedField(6, "loaded_at", TimestamptzType(), required=True),
        NestedField(7, "origin", StringType(), required=True, doc="live, or sample (stargazers synthesized)"),
    ),
    partition=(("star_date", "month"),),
    sort=("repo", "star_date"),
    key=("repo", "star_date"),
    doc=(
        "Daily new and cumulative stars per repository from the GraphQL stargazer backfill (starredAt). Merged on "
        "(repo, star_date): a rerun or a resumed backfill never duplicates a day. Withdrawn stars are not counted."
    ),
)

#: Values of ``github_repo_history.source``.
HISTORY_SOURCES = ("github-ranking", "best-of-ml-python", "best-of-python")

GITHUB_REPO_HISTORY = TableSpec(
    name=Table.GITHUB_REPO_HISTORY,
    schema=Schema(
        NestedField(1, "day", DateType(), required=True, doc="date of the source file the figures come from"),
        NestedField(2, "repo", StringType(), required=True, doc="the tracked repository (catalog owner/name)"),
        NestedField(3, "tool_id", StringType(), required=True, doc="the tracked tool (dim_tools.tool_id)"),
        NestedField(4, "listed_as", StringType(), required=True, doc="owner/name in the file (former name if renamed)"),
        NestedField(5, "stars", LongType(), required=False),
        NestedField(6, "forks", LongType(), required=False),
        NestedField(7, "open_issues", LongType(), required=False),
        NestedField(8, "closed_issues", LongType(), required=False, doc="best-of snapshots only"),
        NestedField(9, "contributors", LongType(), required=False, doc="best-of snapshots only"),
        NestedField(10, "commits", LongType(), required=False, doc="best-of snapshots only"),
        NestedField(11, "releases", LongType(), required=False, doc="best-of snapshots only"),
        NestedField(12, "last_commit", TimestamptzType(), required=False, doc="github-ranking only"),
        NestedField(13, "lists", StringType(), required=False, doc="top-100 lists or best-of category it appeared in"),
        NestedField(14, "source", StringType(), required=True, doc="github-ranking | best-of-ml-python | …"),
        NestedField(15, "loaded_at", TimestamptzType(), required=True),
    ),
    partition=(("day", "year"),),
    sort=("day", "repo"),
    key=("day", "repo", "source"),
    doc=(
        "Daily GitHub figures of the tracked repositories from EvanLi/Github-Ranking's daily top-100 files "
        "(2018-12-18 onward; a repo appears only on days it was in some top-100 list, counted once however many lists) "
        "and the monthly best-of-ml-python / best-of-python snapshots (contributors, issues, commits, releases). "
        "Renamed repositories are mapped to the tracked name (listed_as keeps the name in the file)."
    ),
)

TABLES = [GITHUB_REPO_SNAPSHOTS, GITHUB_STARS_DAILY, GITHUB_REPO_HISTORY]
