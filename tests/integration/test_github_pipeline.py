"""The GitHub pipelines end to end against the replay server: reruns, renames, dead letters, audits, kill + resume.

The pipelines run in ``live`` mode with connection ``github_default`` pointing at the 127.0.0.1 server (its ``host``),
which is exactly how they reach api.github.com in production; only the base URL differs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from madlake.lakehouse.writes import AuditFailedError

from tests.integration._reliability import record
from tests.integration.test_github_client import make_recordings, repo_body, star_pages, write, write_star_pages
from tests.replay_faults import FaultyGitHubReplayServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DAY1, DAY2 = date(2026, 8, 21), date(2026, 8, 22)
SINCE = date(2026, 8, 1)


@pytest.fixture
def github(lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_recordings(tmp_path / "replay" / "github")
    with FaultyGitHubReplayServer(root) as server:
        conn = {"conn_type": "generic", "host": server.url, "password": "test-github-token"}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
        yield server


def snapshot(day: date):
    from madlake.sql.engine import get_engine

    return (
        get_engine()
        .query("select * from github_repo_snapshots where snapshot_date = ? order by repo", [day])
        .to_pylist()
    )


def test_snapshot_day_rerun_renames_and_dead_letters(github: FaultyGitHubReplayServer) -> None:
    from madlake.config import get_settings
    from madlake.pipelines.github import snapshot_repos
    from madlake.sql.engine import get_engine

    repos = {
        "duckdb/duckdb": "duckdb",
        "hwchase17/langchain": "langchain",
        "pola-rs/polars": "polars",
        "nobody/nothing": "ghost",
    }
    first = snapshot_repos(DAY1, repos=repos, source_mode="live")
    rows = snapshot(DAY1)
    assert [r["repo"] for r in rows] == ["duckdb/duckdb", "langchain-ai/langchain", "pola-rs/polars"]
    duck, lang, polars = rows
    assert (duck["stars"], duck["contributors"]) == (40521, 647)
    assert (duck["open_pull_requests"], duck["open_issues"]) == (120, 439)
    assert (duck["commits_28d"], duck["latest_release_tag"], duck["license"], duck["topics"]) == (
        311,
        "v1.9.0",
        "MIT",
        ["sql", "olap"],
    )
    assert (lang["requested_repo"], lang["renamed_from"], lang["repo_id"]) == (
        "hwchase17/langchain",
        "hwchase17/langchain",
        552661142,
    )
    assert polars["open_pull_requests"] is None  # GraphQL could not resolve it: unknown, not zero
    assert first["renamed"] == 1 and first["rejected"] == 1 and first["calls"]["graphql_calls"] == 1
    dead = (
        get_engine()
        .query("select record_id, reason from rejected_records where source = 'github' and entity = 'repo_snapshot'")
        .to_pylist()
    )
    assert dead == [{"record_id": "nobody/nothing", "reason": "repository not found (GitHub answered 404)"}]
    from madlake.pipelines.github import landing_name
    from madlake.sources.github.state import JsonStore

    landed = JsonStore(f"{get_settings().raw_uri}/github").get(landing_name(DAY1))
    assert landed["rest"]["nobody/nothing"]["status"] == 404
    assert landed["rest"]["hwchase17/langchain"]["url"] == "/repositories/552661142"
    assert landed["graphql"]["duckdb/duckdb"]["issues"] == {"totalCount": 439}

    # Rerun of the same day: same rows, not appended, and the unchanged repositories cost nothing (304).
    again = snapshot_repos(DAY1, repos=repos, source_mode="live")
    rerun = snapshot(DAY1)
    assert [r["repo"] for r in rerun] == [r["repo"] for r in rows]
    assert all(r["not_modified"] for r in rerun)
    assert again["not_modified"] == 3 and again["calls"]["rest_not_modified"] >= 3
    assert [r.status for r in github.requests if r.path == "/repos/duckdb/duckdb"] == [200, 304]

    # The next day lands beside it; the dead letters of day 1 are not duplicated by its rerun.
    snapshot_repos(DAY2, repos=repos, source_mode="live")
    counts = (
        get_engine()
        .query("select snapshot_date, count(*) as n from github_repo_snapshots group by 1 order by 1")
        .to_pylist()
    )
    assert counts == [{"snapshot_date": DAY1, "n": 3}, {"snapshot_date": DAY2, "n": 3}]
    assert get_engine().query(
        "select count(*) as n from rejected_records where run_date = ?", [DAY1.isoformat()]
    ).to_pylist() == [{"n": 1}]


def test_an_invalid_answer_is_dead_lettered_and_the_rest_of_the_day_loads(github: FaultyGitHubReplayServer) -> None:
    from madlake.pipelines.github import snapshot_repos
    from madlake.sql.engine import get_engine

    write(github.root, "repos/pola-rs/polars.json", {"full_name": "pola-rs/polars", "stargazers_count": "many"})
    github.reindex()
    summary = snapshot_repos(DAY1, repos={"duckdb/duckdb": "duckdb", "pola-rs/polars": "polars"}, source_mode="live")
    assert (summary["rows"], summary["rejected"]) == (1, 1)
    dead = get_engine().query("select record_id, reason, raw_payload from rejected_records").to_pylist()
    assert dead[0]["record_id"] == "pola-rs/polars"
    assert dead[0]["reason"].startswith("invalid /repos answer") and "stargazers_count" in dead[0]["reason"]
    assert '"many"' in dead[0]["raw_payload"]


def test_a_repo_listed_under_old_and_new_name_is_stored_once(github: FaultyGitHubReplayServer) -> None:
    from madlake.pipelines.github import snapshot_repos

    snapshot_repos(
        DAY1, repos={"hwchase17/langchain": "langchain", "langchain-ai/langchain": "langchain"}, source_mode="live"
    )
    rows = snapshot(DAY1)
    assert [(r["repo"], r["requested_repo"], r["renamed_from"]) for r in rows] == [
        ("langchain-ai/langchain", "langchain-ai/langchain", None)
    ]


def test_implausible_star_drop_fails_the_audit_and_publishes_nothing(github: FaultyGitHubReplayServer) -> None:
    from madlake.pipelines.github import snapshot_repos

    snapshot_repos(DAY1, repos={"duckdb/duckdb": "duckdb"}, source_mode="live")
    write(github.root, "repos/duckdb/duckdb.json", repo_body("duckdb/duckdb", 12))  # a broken answer
    github.reindex()
    with pytest.raises(AuditFailedError, match="loses more than 50%"):
        snapshot_repos(DAY2, repos={"duckdb/duckdb": "duckdb"}, source_mode="live")
    assert snapshot(DAY2) == []
    assert snapshot(DAY1)[0]["stars"] == 40521


def expected_days(pages: list[dict], since: date, until: date) -> dict[date, tuple[int, int]]:
    stars = [
        datetime.fromisoformat(e["starredAt"].replace("Z", "+00:00")) for p in pages for e in p["stargazers"]["edges"]
    ]
    total = pages[0]["stargazerCount"]
    per_day = Counter(s.date() for s in stars)
    out, d = {}, since
    while d <= until:
        out[d] = (per_day.get(d, 0), total - sum(1 for s in stars if s.date() > d))
        d += timedelta(days=1)
    return out


def stars_table(repo: str) -> dict[date, tuple[int, int]]:
    from madlake.sql.engine import get_engine

    rows = (
        get_engine()
        .query(
            "select star_date, new_stars, cumulative_stars from github_stars_daily where repo = ? order by star_date",
            [repo],
        )
        .to_pylist()
    )
    assert len({r["star_date"] for r in rows}) == len(rows), "duplicate days"
    return {r["star_date"]: (r["new_stars"], r["cumulative_stars"]) for r in rows}


def duckdb_pages(root: Path) -> list[dict]:
    folder = root / "graphql" / "Stargazers" / "duckdb" / "duckdb"
    return [json.loads(p.read_text()) for p in folder.glob("*.json")]


def test_star_backfill_rerun_restart_and_old_names(github: FaultyGitHubReplayServer) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.pipelines.github import backfill_star_history

    start = datetime(2026, 8, 20, 12, tzinfo=UTC)
    lang = star_pages("langchain-ai/langchain", [start - timedelta(hours=5 * i) for i in range(120)], 144741, page=50)
    write_star_pages(github.root, "langchain-ai/langchain", lang)
    github.reindex()

    summary = backfill_star_history(
        ["duckdb/duckdb", "hwchase17/langchain", "nobody/nothing"], SINCE, DAY2, source_mode="live"
    )
    assert summary["repos"] == 2 and summary["rejected"] == 1
    expected = expected_days(duckdb_pages(github.root), SINCE, DAY2)
    assert stars_table("duckdb/duckdb") == expected
    assert stars_table("langchain-ai/langchain") == expected_days(lang, SINCE, DAY2)  # followed the rename
    assert stars_table("hwchase17/langchain") == {}
    assert sum(n for n, _ in expected.values()) > 300 and expected[DAY2][1] == 40521

    table = load_table(Table.GITHUB_STARS_DAILY)
    snapshots = len(table.metadata.snapshots)
    calls = github.count("/graphql")
    again = backfill_star_history(["duckdb/duckdb"], SINCE, DAY2, source_mode="live")
    assert again["skipped"] == 1 and github.count("/graphql") == calls  # complete: no API call at all
    redo = backfill_star_history(["duckdb/duckdb"], SINCE, DAY2, source_mode="live", restart=True)
    table.refresh()
    assert redo["pages"] > 1
    assert len(table.metadata.snapshots) == snapshots  # same rows merged again: nothing committed
    assert stars_table("duckdb/duckdb") == expected


_CHILD = """
import logging, sys
from datetime import date
logging.basicConfig(level=logging.INFO)
from madlake.pipelines.github import backfill_star_history
backfill_star_history(["duckdb/duckdb"], date.fromisoformat(sys.argv[1]), date.fromisoformat(sys.argv[2]),
                      source_mode="live")
"""


def test_a_killed_backfill_resumes_from_its_checkpoint(github: FaultyGitHubReplayServer, lakehouse: Path) -> None:
    # 45 pages of 10 stars: checkpoints after pages 10, 20, ...; from page 13 on, every page is slow.
    import shutil

    from madlake.pipelines.github import backfill_star_history, checkpoint_name
    from madlake.sources.github.state import JsonStore

    shutil.rmtree(github.root / "graphql" / "Stargazers" / "duckdb")
    start = datetime(2026, 8, 22, 23, tzinfo=UTC)
    pages = star_pages("duckdb/duckdb", [start - timedelta(minutes=97 * i) for i in range(450)], 40521, page=10)
    write_star_pages(github.root, "duckdb/duckdb", pages)
    github.reindex()
    since = date(2026, 7, 20)
    github.inject("/graphql", delay_s=1.5, times=100, after=12)
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse), "MADLAKE_PROFILE": "local"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, since.isoformat(), DAY2.isoformat()],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    store, name = JsonStore.default(), checkpoint_name("duckdb/duckdb", since, DAY2)
    deadline = time.monotonic() + 60
    while (store.get(name) or {}).get("pages", 0) < 1:
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 60 s"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stderr.close()
    checkpoint = store.get(name)
    assert checkpoint is not None and not checkpoint["done"]
    partial = stars_table("duckdb/duckdb")
    assert 0 < len(partial) < (DAY2 - since).days + 1

    github.faults.clear()
    time.sleep(2.0)  # let the killed child's in-flight (delayed) request finish on the server side
    before = len(github.requests)
    result = backfill_star_history(["duckdb/duckdb"], since, DAY2, source_mode="live")
    assert result["resumed"] == 1
    resumed_requests = github.requests[before:]
    expected = expected_days(duckdb_pages(github.root), since, DAY2)
    assert stars_table("duckdb/duckdb") == expected
    assert checkpoint["pages"] >= 10
    assert len(resumed_requests) == len(pages) - checkpoint["pages"]  # did not start over
    record(
        "github_star_backfill_resume_after_kill",
        pages_before_kill=checkpoint["pages"],
        pages_after_resume=len(resumed_requests),
        days=len(expected),
        duplicate_days=0,
    )


def test_replay_mode_serves_the_recordings_and_reuses_etags_across_runs(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.github import snapshot_repos

    make_recordings(tmp_path / "replay" / "github")
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "replay"))
    repos = {"duckdb/duckdb": "duckdb", "pola-rs/polars": "polars", "not/recorded": "ghost"}
    first = snapshot_repos(DAY1, repos=repos, source_mode="replay")  # each run starts its own server (new port)
    second = snapshot_repos(DAY1, repos=repos, source_mode="replay")
    assert (first["repos_requested"], first["rows"], first["rejected"]) == (2, 2, 0)  # unrecorded: skipped
    assert (first["not_modified"], second["not_modified"]) == (0, 2)
    assert [r["origin"] for r in snapshot(DAY1)] == ["replay", "replay"]


def test_cli_snapshot_and_stars_without_airflow(
    github: FaultyGitHubReplayServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from madlake.cli import main

    assert (
        main(
            [
                "github",
                "stars",
                "--since",
                SINCE.isoformat(),
                "--until",
                DAY2.isoformat(),
                "--repo",
                "duckdb/duckdb",
                "--source-mode",
                "live",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"{SINCE}..{DAY2}: 1 repositories" in out and "22 days merged" in out
    assert stars_table("duckdb/duckdb") == expected_days(duckdb_pages(github.root), SINCE, DAY2)
