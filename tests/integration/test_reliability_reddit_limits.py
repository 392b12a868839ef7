"""Reddit records that once failed a whole load or stored garbage (issue #13, items 4 and 5).

* item 4: ``created_utc: -1e18`` raised an ``OSError`` inside the validator and failed the day; every out-of-range,
  unparsable or oversized value must now refuse that record alone, with its reason;
* item 5: a 200 MB selftext went into ``reddit_submissions``; latin-1 bytes became U+FFFD and overwrote a good body.
  Bodies are capped at Reddit's 40,000 characters, a record's size and depth are bounded, an oversized landed line
  is rejected without being held in memory, and damaged text never replaces an undamaged version.
"""

from __future__ import annotations

import copy
import gzip
import json
import shutil
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

DAY = date(2025, 8, 8)
HOSTILE: dict[str, object] = {
    "created_utc": -1e18,
    "score": 10**30,
    "num_comments": -5,
    "upvote_ratio": float("nan"),
    "selftext": "x" * 1_000_000,
    "title": "t" * 5_000,
    "author": "a" * 50_000,
    "edited": 1e300,
    "gilded": "many",
    "permalink": ["/r/x"],
}


def _query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params or []).to_pylist()


def test_out_of_range_and_oversized_values_refuse_the_record_not_the_day(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.pipelines import reddit_ingest, reddit_load

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    replay = tmp_path / "replay" / "reddit"
    shutil.copytree(BUNDLED_REPLAY_DIR / "reddit", replay)
    shutil.rmtree(replay / "localllama")  # replay the flat recording of 2025-08-08 (r/LocalLLaMA/new.json) alone
    listing_path = replay / "r" / "LocalLLaMA" / "new.json"
    listing = json.loads(listing_path.read_text())
    good = listing["data"]["children"]
    bad = []
    for i, (field, value) in enumerate(HOSTILE.items()):
        post = copy.deepcopy(good[i % len(good)])
        post["data"].update(id=f"zzbad{i}", **{field: value})
        bad.append(post)
    # The exact record of the report: one post with created_utc -1e18 among real ones.
    listing["data"]["children"] = good + bad
    listing_path.write_text(json.dumps(listing))

    reddit_ingest.ingest(DAY, subreddits=["LocalLLaMA"], fetch_comments=False, replay_dir=replay, max_attempts=1)
    result = reddit_load.load(DAY)

    dead = _query(
        "select record_id, reason from rejected_records where source = 'reddit' and entity = 'submission' "
        "and run_date = ?",
        [DAY.isoformat()],
    )
    loaded = _query("select id, length(selftext) as n from reddit_submissions")
    by_id = {d["record_id"]: d["reason"] for d in dead}
    # "edited: 1e300" is not an error: edited is a flag or a time; an absurd time means "edited, time unknown".
    expected = {f"zzbad{i}" for i, f in enumerate(HOSTILE) if f != "edited"}
    record(
        "reddit_value_limits",
        hostile_records=len(bad),
        rejected=len(by_id),
        good_loaded=len({r["id"] for r in loaded} - expected),
        longest_selftext=max((r["n"] or 0) for r in loaded),
        reasons=dict(Counter(r.split(":")[1].strip()[:30] if ":" in r else r for r in by_id.values())),
    )
    assert result["rejected"] >= len(expected)
    assert expected <= set(by_id), sorted(expected - set(by_id))
    assert "outside Reddit's lifetime" in by_id["zzbad0"]
    assert "over Reddit's body limit of 40,000" in by_id["zzbad4"]
    assert all(by_id[i] for i in expected)
    assert {g["data"]["id"] for g in good} <= {r["id"] for r in loaded}, "a good post was lost"
    assert max((r["n"] or 0) for r in loaded) <= 40_000


def test_a_reddit_sized_body_with_entities_is_not_refused() -> None:
    from madlake.models.reddit import submission_row

    post = {"id": "abc", "subreddit": "x", "created_utc": 1.7e9, "title": "Q&amp;A", "selftext": "&amp;" * 40_000}
    row = submission_row(post, source="api", observed_at=datetime.now(UTC))
    assert len(row["selftext"]) == 200_000  # 40,000 characters once the API's entity escaping is undone


def test_archive_records_with_absurd_times_do_not_raise() -> None:
    from madlake.sources.reddit.archive import observed_at

    for value in (-1e18, 1e18, float("inf"), "1e400"):
        assert observed_at({"retrieved_on": value, "created_utc": 1.7e9}).year == 2023


def test_an_oversized_landed_line_is_rejected_in_bounded_memory(tmp_path: Path) -> None:
    from madlake.sources.reddit.landing import MAX_LINE_BYTES, read_landing

    landing = tmp_path / "landing"
    landing.mkdir()
    huge = b'{"endpoint": "listing", "body": {"data": {"children": [{"kind": "t3", "data": {"selftext": "'
    from pyarrow import fs

    # Written the way LandingWriter writes a part (a pyarrow output stream, gzip-framed lines).
    with (
        fs.LocalFileSystem().open_output_stream(str(landing / "part.jsonl.gz")) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as gz,
    ):
        gz.write(b'{"endpoint": "listing", "fetched_at": "2025-08-08T00:00:00+00:00", "body": {"data": {}}}\n')
        gz.write(huge)
        for _ in range(25):
            gz.write(b"x" * (8 << 20))  # 200 MB of selftext
        gz.write(b'"}}]}}}\n')
        gz.write(b"\xff\xfe not utf-8\n")
    tracemalloc.start()
    lines = list(read_landing(landing.as_uri()))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    record("reddit_oversized_line", line_bytes=len(huge) + 25 * (8 << 20), peak_mb=round(peak / 2**20, 1))
    assert [x["endpoint"] for x in lines] == ["listing", "unreadable", "unreadable"]
    assert "over the" in lines[1]["error"] and "UTF-8" in lines[2]["error"]
    assert peak < MAX_LINE_BYTES * 2.5, f"peak {peak / 2**20:.0f} MB reading a 200 MB line"


def test_undecodable_text_never_overwrites_a_good_version(lakehouse: Path) -> None:
    from madlake.lakehouse.tables import ensure_tables
    from madlake.lakehouse.writes import CommitContext
    from madlake.models.reddit import submission_row
    from madlake.names import Table
    from madlake.pipelines.reddit_merge import merge_rows

    ensure_tables()
    ctx = CommitContext("test", "r", "reddit")
    t1 = datetime(2025, 8, 8, tzinfo=UTC)
    post = {"id": "abc", "subreddit": "x", "created_utc": t1.timestamp() - 60, "title": "Café", "score": 1}
    good = {**post, "selftext": "Señor Müller's café"}
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(good, source="api", observed_at=t1)], ctx, t1)
    damaged = {**post, "title": "Caf\ufffd", "selftext": "Se\ufffdor M\ufffdller's caf\ufffd", "score": 9}
    t2 = t1 + timedelta(hours=1)
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(damaged, source="api", observed_at=t2)], ctx, t2)
    (row,) = _query("select title, selftext, score from reddit_submissions")
    assert row == {"title": "Café", "selftext": "Señor Müller's café", "score": 9}
    edited = {**post, "selftext": "Señor Müller's café (edited)", "score": 10}
    t3 = t2 + timedelta(hours=1)
    merge_rows(Table.REDDIT_SUBMISSIONS, [submission_row(edited, source="api", observed_at=t3)], ctx, t3)
    assert _query("select selftext from reddit_submissions")[0]["selftext"].endswith("(edited)")
