"""The Reddit merge contract on a real (SQLite-catalog) Iceberg table: updates, idempotence, deletions, ordering."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext
from madlake.models.reddit import comment_row, submission_row
from madlake.names import Table
from madlake.pipelines.reddit_merge import merge_rows

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "include" / "madlake" / "replay" / "reddit"
CTX = CommitContext(dag_id="test", run_id="run-1", source="reddit")
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = T1 + timedelta(hours=6)
T3 = T2 + timedelta(hours=6)


def real_comments() -> list[dict]:
    thread = json.loads((SAMPLE / "comments" / "1mkowrw.json").read_text())
    return [c["data"] for c in thread[1]["data"]["children"]]  # 11 top-level comments


def real_posts() -> list[dict]:
    listing = json.loads((SAMPLE / "r" / "LocalLLaMA" / "new.json").read_text())
    return [c["data"] for c in listing["data"]["children"]]


def rows_of(table_name: str) -> dict[str, dict]:
    table = load_table(table_name)
    table.refresh()
    rows = table.scan().to_arrow().to_pylist()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return {r["id"]: r for r in rows}


def snapshots(table_name: str) -> int:
    table = load_table(table_name)
    table.refresh()
    return len(table.snapshots())


def test_seen_again_updates_stats_and_last_seen_without_duplicates(lakehouse: Path) -> None:
    posts = real_posts()[:10]
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(p, source="api", observed_at=T1) for p in posts], CTX, T1)
    newer = copy.deepcopy(posts[:3])
    for p in newer:
        p["score"] += 40
        p["num_comments"] += 5
    result = merge_rows(
        Table.REDDIT_SUBMISSIONS, [submission_row(p, source="api", observed_at=T2) for p in newer], CTX, T2
    )
    assert (result.inserted, result.changed, result.committed) == (0, 3, True)
    stored = rows_of(Table.REDDIT_SUBMISSIONS)
    assert len(stored) == 10
    for p in newer:
        row = stored[p["id"]]
        assert (row["score"], row["num_comments"]) == (p["score"], p["num_comments"])
        assert (row["first_seen_at"], row["last_seen_at"], row["loaded_at"]) == (T1, T2, T2)
    untouched = stored[posts[5]["id"]]
    assert (untouched["score"], untouched["last_seen_at"], untouched["loaded_at"]) == (posts[5]["score"], T1, T1)


def test_reloading_the_same_observations_commits_nothing(lakehouse: Path) -> None:
    rows = [comment_row(c, source="api", observed_at=T1) for c in real_comments()]
    first = merge_rows(Table.REDDIT_COMMENTS, rows, CTX, T1)
    assert (first.inserted, first.committed) == (11, True)
    before = snapshots(Table.REDDIT_COMMENTS)
    again = merge_rows(Table.REDDIT_COMMENTS, rows, CTX, T3)
    assert (again.inserted, again.changed, again.committed) == (0, 0, False)
    assert snapshots(Table.REDDIT_COMMENTS) == before
    assert {r["loaded_at"] for r in rows_of(Table.REDDIT_COMMENTS).values()} == {T1}


def test_same_stats_seen_later_moves_last_seen_but_not_loaded_at(lakehouse: Path) -> None:
    comments = real_comments()
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(c, source="api", observed_at=T1) for c in comments], CTX, T1)
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(c, source="api", observed_at=T2) for c in comments], CTX, T2)
    row = rows_of(Table.REDDIT_COMMENTS)[comments[0]["id"]]
    assert (row["first_seen_at"], row["last_seen_at"], row["loaded_at"]) == (T1, T2, T1)


def test_deletion_clears_text_keeps_row_and_stats_and_sticks(lakehouse: Path) -> None:
    original = real_comments()[0]
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(original, source="api", observed_at=T1)], CTX, T1)
    deleted = {**original, "body": "[deleted]", "author": "[deleted]", "score": original["score"] + 3}
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(deleted, source="api", observed_at=T2)], CTX, T2)
    row = rows_of(Table.REDDIT_COMMENTS)[original["id"]]
    assert row["is_deleted"] and row["body"] is None and row["author"] is None and row["raw_json"] is None
    assert row["score"] == original["score"] + 3 and row["loaded_at"] == T2
    # the older, undeleted observation replayed afterwards must not resurrect the text nor roll the score back
    result = merge_rows(Table.REDDIT_COMMENTS, [comment_row(original, source="api", observed_at=T1)], CTX, T3)
    row = rows_of(Table.REDDIT_COMMENTS)[original["id"]]
    assert row["body"] is None and row["score"] == original["score"] + 3 and row["last_seen_at"] == T2
    assert not result.committed
    # nor a *newer* undeleted copy (e.g. an archive that captured it before deletion, retrieved later)
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(original, source="pushshift", observed_at=T3)], CTX, T3)
    row = rows_of(Table.REDDIT_COMMENTS)[original["id"]]
    assert row["body"] is None and row["is_deleted"]


def test_deletion_wins_even_when_it_arrives_before_the_older_copy(lakehouse: Path) -> None:
    post = real_posts()[0]
    removed = {**post, "selftext": "[removed]", "removed_by_category": "moderator"}
    rows = [submission_row(removed, source="api", observed_at=T2), submission_row(post, source="api", observed_at=T1)]
    merge_rows(Table.REDDIT_SUBMISSIONS, rows, CTX, T3)
    row = rows_of(Table.REDDIT_SUBMISSIONS)[post["id"]]
    assert row["is_removed"] and row["title"] is None and row["selftext"] is None
    assert (row["first_seen_at"], row["last_seen_at"]) == (T1, T2)


def test_newest_observation_wins_within_one_batch_regardless_of_order(lakehouse: Path) -> None:
    post = real_posts()[0]
    newer = {**post, "score": post["score"] + 100}
    rows = [submission_row(newer, source="api", observed_at=T2), submission_row(post, source="api", observed_at=T1)]
    result = merge_rows(Table.REDDIT_SUBMISSIONS, rows, CTX, T3)
    assert (result.incoming, result.inserted) == (1, 1)
    row = rows_of(Table.REDDIT_SUBMISSIONS)[post["id"]]
    assert row["score"] == post["score"] + 100
    assert (row["first_seen_at"], row["last_seen_at"], row["loaded_at"]) == (T1, T2, T3)


def test_archive_nulls_do_not_erase_known_values(lakehouse: Path) -> None:
    reply = next(
        c
        for c in json.loads((SAMPLE / "comments" / "1mkowrw.json").read_text())[1]["data"]["children"]
        if c["data"].get("replies")
    )["data"]["replies"]["data"]["children"][0]["data"]
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(reply, source="api", observed_at=T1)], CTX, T1)
    archived = {k: v for k, v in reply.items() if k not in ("depth", "name", "replies")}
    merge_rows(Table.REDDIT_COMMENTS, [comment_row(archived, source="pushshift", observed_at=T2)], CTX, T2)
    row = rows_of(Table.REDDIT_COMMENTS)[reply["id"]]
    assert row["depth"] == reply["depth"] == 1
    assert row["source"] == "pushshift" and row["last_seen_at"] == T2


@pytest.mark.parametrize("n_months", [1, 3])
def test_merge_only_rewrites_touched_partitions(lakehouse: Path, n_months: int) -> None:
    posts = real_posts()[:6]
    for i, p in enumerate(posts):  # spread the posts over months of 2025
        p["created_utc"] = datetime(2025, 1 + i, 15, tzinfo=UTC).timestamp()
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(p, source="api", observed_at=T1) for p in posts], CTX, T1)
    table = load_table(Table.REDDIT_SUBMISSIONS)
    files_before = {f.file.file_path for f in table.scan().plan_files()}
    touched = posts[:n_months]
    for p in touched:
        p["score"] += 1
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(p, source="api", observed_at=T2) for p in touched], CTX, T2)
    table.refresh()
    files_after = {f.file.file_path for f in table.scan().plan_files()}
    assert len(files_before - files_after) == n_months  # one data file per rewritten month partition
    assert len(rows_of(Table.REDDIT_SUBMISSIONS)) == 6
