"""Star-history arithmetic, models and the small JSON state of the GitHub source (pure logic, no network)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from madlake.sources.github.client import _last_page, repo_metrics_query
from madlake.sources.github.models import GqlRepoMetrics, RestRepo, StargazerPage
from madlake.sources.github.stars import StarBackfillState
from madlake.sources.github.state import EtagCache, JsonStore
from pydantic import ValidationError

SINCE, UNTIL = date(2026, 5, 1), date(2026, 5, 31)


def synthetic_stars(seed: int, n: int, first: date, last: date) -> list[datetime]:
    rng = random.Random(seed)
    span = int((last - first).days + 1) * 86400
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    return sorted((start + timedelta(seconds=rng.randrange(span)) for _ in range(n)), reverse=True)


def reference(stars: list[datetime], total: int, since: date, until: date) -> dict[date, tuple[int, int]]:
    """Brute force: per day, (stars that day, total minus stars after that day)."""
    per_day = Counter(s.date() for s in stars)
    out = {}
    d = since
    while d <= until:
        after = sum(1 for s in stars if s.date() > d)
        out[d] = (per_day.get(d, 0), total - after)
        d += timedelta(days=1)
    return out


def run_pages(stars: list[datetime], total: int, page: int, *, roundtrip: bool, has_more: bool) -> dict:
    state = StarBackfillState(repo="o/r", requested="o/r", since=SINCE, until=UNTIL, total=total)
    rows: dict[date, tuple[int, int]] = {}
    for i in range(0, len(stars), page):
        chunk = stars[i : i + page]
        last = i + page >= len(stars)
        for r in state.consume(chunk, f"c{i + len(chunk)}", has_next=has_more or not last):
            assert r["star_date"] not in rows, "a day was emitted twice"
            rows[r["star_date"]] = (r["new_stars"], r["cumulative_stars"])
        if roundtrip:  # what a resume after a kill does: only the checkpoint survives
            state = StarBackfillState.from_json(json.loads(json.dumps(state.to_json())))
        if state.done:
            break
    assert state.done
    return rows


@pytest.mark.parametrize("page", [1, 7, 100, 5000])
@pytest.mark.parametrize("roundtrip", [False, True])
def test_daily_rows_match_brute_force_whatever_the_paging(page: int, roundtrip: bool) -> None:
    # Stars from before the window (ends the backfill), inside it, and after `until` (only lowers cumulative).
    stars = synthetic_stars(1, 900, date(2026, 4, 20), date(2026, 6, 5))
    total = len(stars) + 5000  # older stargazers beyond the pages we read
    rows = run_pages(stars, total, page, roundtrip=roundtrip, has_more=True)
    assert rows == reference(stars, total, SINCE, UNTIL)


def test_history_that_ends_inside_the_window_fills_the_remaining_days_with_zero() -> None:
    stars = synthetic_stars(2, 50, date(2026, 5, 20), date(2026, 5, 31))  # the repository was created on May 20
    rows = run_pages(stars, len(stars), 10, roundtrip=True, has_more=False)
    assert len(rows) == 31
    assert rows[date(2026, 5, 1)] == (0, 0)
    assert rows == reference(stars, len(stars), SINCE, UNTIL)
    assert sum(n for n, _ in rows.values()) == 50


def test_a_day_split_across_pages_is_emitted_once_with_its_full_count() -> None:
    day = datetime(2026, 5, 15, tzinfo=UTC)
    stars = [day + timedelta(hours=23 - h) for h in range(10)] + [day - timedelta(days=20)]
    rows = run_pages(stars, 100, 3, roundtrip=True, has_more=True)
    assert rows[date(2026, 5, 15)] == (10, 100 - 0)
    assert rows[date(2026, 5, 14)] == (0, 90)


def test_link_header_last_page() -> None:
    link = (
        '<https://api.github.com/repositories/1/contributors?per_page=1&anon=1&page=2>; rel="next", '
        '<https://api.github.com/repositories/1/contributors?per_page=1&anon=1&page=431>; rel="last"'
    )
    assert _last_page(link) == 431
    assert _last_page(None) is None
    assert _last_page('<https://x/y?page=2>; rel="next"') is None


def test_batch_query_declares_every_alias_variable() -> None:
    q = repo_metrics_query(3)
    assert "query RepoMetrics($since: GitTimestamp!, $o0: String!, $n0: String!" in q
    assert "r2: repository(owner: $o2, name: $n2) { ...RepoMetricsFields }" in q
    assert "r3:" not in q
    assert "history(since: $since)" in q


def test_models_require_what_github_always_sends() -> None:
    ok = RestRepo.model_validate({"full_name": "duckdb/duckdb", "stargazers_count": 5, "unknown": 1})
    assert ok.forks_count is None and ok.topics is None
    with pytest.raises(ValidationError, match="stargazers_count"):
        RestRepo.model_validate({"full_name": "duckdb/duckdb"})
    with pytest.raises(ValidationError, match="full_name"):
        RestRepo.model_validate({"full_name": "not a repo", "stargazers_count": 1})
    metrics = GqlRepoMetrics.model_validate(
        {
            "nameWithOwner": "a/b",
            "pullRequests": {"totalCount": 3},
            "defaultBranchRef": {"name": "main", "target": {"history": {"totalCount": 41}}},
        }
    )
    assert (metrics.open_pull_requests, metrics.open_issues, metrics.commits_28d) == (3, None, 41)
    with pytest.raises(ValidationError):
        StargazerPage.model_validate({"nameWithOwner": "a/b", "stargazerCount": 1, "stargazers": {"edges": []}})


def test_json_store_is_atomic_and_tolerates_garbage(tmp_path: Path) -> None:
    store = JsonStore(tmp_path.as_uri())
    assert store.get("x/state.json") is None
    store.put("x/state.json", {"a": 1})
    assert store.get("x/state.json") == {"a": 1}
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["state.json"]  # no temp file left behind
    (tmp_path / "x" / "state.json").write_text("{not json")
    assert store.get("x/state.json") is None


def test_etag_cache_survives_a_reload(tmp_path: Path) -> None:
    store = JsonStore(tmp_path.as_uri())
    cache = EtagCache(store)
    cache.put("/repos/A/B/contributors", '"abc"', [{"login": "x"}], {"Link": '<u?page=9>; rel="last"'})
    cache.save()
    again = EtagCache(store)
    assert again.get("/repos/a/b/contributors") == ('"abc"', [{"login": "x"}], {"Link": '<u?page=9>; rel="last"'})
