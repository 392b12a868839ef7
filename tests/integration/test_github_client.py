"""The GitHub client against the replay server on 127.0.0.1: quota handling, conditional requests, renames, GraphQL.

Recordings are written per test into a temporary folder with the documented layout, so each test states its data.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from madlake.sources.github.client import GitHubApiError, GitHubClient, QuotaExhaustedError
from madlake.sources.github.replay import page_file_name
from madlake.sources.github.state import EtagCache, JsonStore

from tests.replay_faults import FaultyGitHubReplayServer

pytestmark = pytest.mark.integration


def write(root: Path, rel: str, value: Any) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def repo_body(full_name: str, stars: int, **extra: Any) -> dict[str, Any]:
    return {
        "full_name": full_name,
        "stargazers_count": stars,
        "forks_count": stars // 10,
        "open_issues_count": 7,
        "subscribers_count": 12,
        "archived": False,
        "license": {"spdx_id": "MIT"},
        "topics": ["sql", "olap"],
        "pushed_at": "2026-08-20T18:48:29Z",
        "default_branch": "main",
        **extra,
    }


def star_pages(full_name: str, stars: list[datetime], total: int, page: int = 100) -> list[dict[str, Any]]:
    """Stargazer pages newest first, like GitHub's ``orderBy: STARRED_AT DESC``."""
    stars = sorted(stars, reverse=True)
    pages = []
    for i in range(0, len(stars), page):
        chunk = stars[i : i + page]
        more = i + page < len(stars)
        pages.append(
            {
                "nameWithOwner": full_name,
                "stargazerCount": total,
                "stargazers": {
                    "pageInfo": {"endCursor": f"Y3Vyc29y/{i + len(chunk)}+=", "hasNextPage": more},
                    "edges": [{"starredAt": s.strftime("%Y-%m-%dT%H:%M:%SZ")} for s in chunk],
                },
            }
        )
    return pages


def write_star_pages(root: Path, full_name: str, pages: list[dict[str, Any]]) -> None:
    cursor = None
    for page in pages:
        write(root, f"graphql/Stargazers/{full_name}/{page_file_name(cursor)}", page)
        cursor = page["stargazers"]["pageInfo"]["endCursor"]


def make_recordings(root: Path) -> Path:
    """Three repositories, one rename, contributors for one, metrics for two, star history for one."""
    write(root, "repos/duckdb/duckdb.json", repo_body("duckdb/duckdb", 40521, id=138754790))
    write(root, "repos/pola-rs/polars.json", repo_body("pola-rs/polars", 39436))
    write(root, "repos/langchain-ai/langchain.json", repo_body("langchain-ai/langchain", 144741, id=552661142))
    write(root, "repositories/552661142.json", repo_body("langchain-ai/langchain", 144741, id=552661142))
    write(
        root,
        "repos/hwchase17/langchain.json",
        {"message": "Moved Permanently", "url": "https://api.github.com/repositories/552661142"},
    )
    write(
        root,
        "repos/hwchase17/langchain.headers.json",
        {"status": 301, "headers": {"Location": "{base}/repositories/552661142"}},
    )
    write(root, "repos/duckdb/duckdb/contributors.json", [{"login": "hannes", "contributions": 9000}])
    write(
        root,
        "repos/duckdb/duckdb/contributors.headers.json",
        {
            "status": 200,
            "headers": {
                "Link": '<{base}/repositories/138754790/contributors?per_page=1&anon=1&page=2>; rel="next", '
                '<{base}/repositories/138754790/contributors?per_page=1&anon=1&page=647>; rel="last"'
            },
        },
    )
    write(
        root,
        "graphql/RepoMetrics/duckdb/duckdb.json",
        {
            "nameWithOwner": "duckdb/duckdb",
            "pullRequests": {"totalCount": 120},
            "issues": {"totalCount": 439},
            "latestRelease": {"tagName": "v1.9.0", "publishedAt": "2026-07-01T10:00:00Z"},
            "defaultBranchRef": {"name": "main", "target": {"history": {"totalCount": 311}}},
        },
    )
    write(
        root,
        "graphql/RepoMetrics/langchain-ai/langchain.json",
        {"nameWithOwner": "langchain-ai/langchain", "pullRequests": {"totalCount": 200}, "issues": {"totalCount": 131}},
    )
    start = datetime(2026, 8, 22, 23, tzinfo=UTC)
    stars = [start - timedelta(minutes=97 * i) for i in range(450)]  # ~30 days, ~15 stars a day
    write_star_pages(root, "duckdb/duckdb", star_pages("duckdb/duckdb", stars, 40521))
    return root


@pytest.fixture
def server(tmp_path: Path):
    with FaultyGitHubReplayServer(make_recordings(tmp_path / "github")) as srv:
        yield srv


def client_for(server: FaultyGitHubReplayServer, tmp_path: Path, **kwargs: Any) -> GitHubClient:
    cache = EtagCache(JsonStore((tmp_path / "state").as_uri()))
    return GitHubClient(server.url, "test-token", etag_cache=cache, **kwargs)


def test_conditional_request_answers_304_and_costs_no_quota(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        first = client.repo("duckdb/duckdb")
        remaining_after_first = client.stats.remaining["core"]
        client.etag_cache.save()
    # A new client (the next day's run) with the cache loaded from storage.
    with client_for(server, tmp_path) as client:
        second = client.repo("duckdb/duckdb")
        assert client.stats.remaining["core"] == remaining_after_first  # the 304 was free
    assert (first.status, first.not_modified) == (200, False)
    assert (second.status, second.not_modified) == (304, True)
    assert second.body == first.body and second.body["stargazers_count"] == 40521
    last = server.requests[-1]
    assert (last.method, last.path, last.status) == ("GET", "/repos/duckdb/duckdb", 304)
    assert client.stats.rest_not_modified == 1


def test_a_changed_resource_is_fetched_again(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        client.repo("duckdb/duckdb")
        write(server.root, "repos/duckdb/duckdb.json", repo_body("duckdb/duckdb", 40600))
        server.reindex()
        again = client.repo("duckdb/duckdb")
    assert (again.status, again.body["stargazers_count"]) == (200, 40600)


def test_secondary_rate_limit_403_waits_for_retry_after_then_succeeds(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    server.inject("/repos/duckdb/duckdb", status=403, headers={"Retry-After": "1"})
    with client_for(server, tmp_path) as client:
        started = time.monotonic()
        answer = client.repo("duckdb/duckdb")
        elapsed = time.monotonic() - started
    assert answer.status == 200 and answer.body["full_name"] == "duckdb/duckdb"
    assert elapsed >= 1.0  # really waited the Retry-After
    assert [r.status for r in server.requests if r.path == "/repos/duckdb/duckdb"] == [403, 200]
    assert (client.stats.waits, client.stats.retries) == (1, 1)


def test_429_and_secondary_limit_without_header_wait_as_documented(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    server.inject("/repos/pola-rs/polars", status=429, headers={"Retry-After": "7"})
    server.inject("/graphql", status=403, body={"message": "You have exceeded a secondary rate limit."})
    with client_for(server, tmp_path, sleep=waits.append) as client:
        assert client.repo("pola-rs/polars").status == 200
        metrics = client.repo_metrics(["duckdb/duckdb"], datetime(2026, 7, 25, tzinfo=UTC))
    assert waits == [7.0, 60.0]
    assert metrics["duckdb/duckdb"]["pullRequests"]["totalCount"] == 120


def test_exhausted_primary_quota_waits_for_reset_or_fails_clearly(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    reset = int(time.time()) + 30
    exhausted = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"}
    server.inject(
        "/repos/duckdb/duckdb",
        status=403,
        headers=exhausted,
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    with client_for(server, tmp_path, sleep=waits.append) as client:
        assert client.repo("duckdb/duckdb").status == 200
    assert len(waits) == 1 and 25 <= waits[0] <= 32

    server.inject(
        "/repos/duckdb/duckdb",
        status=403,
        headers={**exhausted, "X-RateLimit-Reset": str(reset + 7200)},
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    with (
        client_for(server, tmp_path, sleep=waits.append, max_wait_s=600) as client,
        pytest.raises(QuotaExhaustedError, match="would have to wait"),
    ):
        client.repo("duckdb/duckdb")


def test_graphql_rate_limited_error_waits_for_the_graphql_reset(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    reset = int(time.time()) + 20
    limited = {"data": None, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
    server.inject(
        "/graphql",
        status=200,
        body=limited,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "graphql"},
    )
    with client_for(server, tmp_path, sleep=waits.append) as client:
        page = client.stargazer_page("duckdb/duckdb", None)
    assert page is not None and page["stargazerCount"] == 40521
    assert len(waits) == 1 and 15 <= waits[0] <= 22
    assert [r.status for r in server.requests if r.method == "POST"] == [200, 200]


def test_a_spent_budget_announced_by_a_success_is_waited_out_before_the_next_call(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    reset = int(time.time()) + 12
    server.inject(
        "/repos/duckdb/duckdb",
        status=200,
        body=repo_body("duckdb/duckdb", 40521),
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"},
    )
    with client_for(server, tmp_path, sleep=waits.append) as client:
        assert client.repo("duckdb/duckdb").status == 200
        assert waits == []
        assert client.repo("pola-rs/polars").status == 200  # waits for the reset first, then calls once
    assert len(waits) == 1 and 8 <= waits[0] <= 14
    assert [r.path for r in server.requests] == ["/repos/duckdb/duckdb", "/repos/pola-rs/polars"]


def test_server_errors_are_retried_then_reported(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    waits: list[float] = []
    server.inject("/repos/duckdb/duckdb", status=502, body={"message": "Server Error"}, times=2)
    with client_for(server, tmp_path, sleep=waits.append) as client:
        assert client.repo("duckdb/duckdb").status == 200
    assert waits == [1.0, 2.0]
    server.inject("/repos/duckdb/duckdb", status=500, body={"message": "boom"}, times=10)
    with (
        client_for(server, tmp_path, sleep=waits.append, max_attempts=3) as client,
        pytest.raises(GitHubApiError, match=r"failed after 3 attempts.*HTTP 500"),
    ):
        client.repo("duckdb/duckdb")


def test_renamed_repository_is_followed_and_reported(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        answer = client.repo("hwchase17/langchain")
        missing = client.repo("nobody/nothing")
    assert answer.status == 200 and answer.body["full_name"] == "langchain-ai/langchain"
    assert answer.redirected_from == (f"{server.url}/repos/hwchase17/langchain",)
    assert client.stats.redirects == 1
    assert missing.status == 404


def test_contributors_count_reads_the_last_page_link(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        assert client.contributors_count("duckdb/duckdb") == 647
        assert client.contributors_count("pola-rs/polars") is None  # not recorded: 404
        # Again: a bare 304 (no Link header) still gives the count, from the headers cached with the body.
        assert client.contributors_count("duckdb/duckdb") == 647
    assert [r.status for r in server.requests if r.path.endswith("/duckdb/contributors")] == [200, 304]


def test_graphql_batches_repositories_and_reports_unknown_ones(
    server: FaultyGitHubReplayServer, tmp_path: Path
) -> None:
    names = ["duckdb/duckdb", "langchain-ai/langchain"] + [f"ghost/repo{i}" for i in range(30)]
    with client_for(server, tmp_path) as client:
        out = client.repo_metrics(names, datetime(2026, 7, 25, tzinfo=UTC))
    assert client.stats.graphql_calls == 2  # 32 repositories, 25 per query
    assert out["duckdb/duckdb"]["defaultBranchRef"]["target"]["history"]["totalCount"] == 311
    assert out["langchain-ai/langchain"]["issues"]["totalCount"] == 131
    assert out["ghost/repo7"] is None


def test_stargazer_pages_follow_cursors_and_renames(server: FaultyGitHubReplayServer, tmp_path: Path) -> None:
    with client_for(server, tmp_path) as client:
        first = client.stargazer_page("duckdb/duckdb", None)
        second = client.stargazer_page("duckdb/duckdb", first["stargazers"]["pageInfo"]["endCursor"])
        unknown = client.stargazer_page("nobody/nothing", None)
    assert first["stargazerCount"] == 40521 and len(first["stargazers"]["edges"]) == 100
    assert second["stargazers"]["edges"][0]["starredAt"] < first["stargazers"]["edges"][-1]["starredAt"]
    assert unknown is None
