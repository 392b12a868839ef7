"""The Reddit pipeline end to end against the recorded real responses, served to the real praw client on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from madlake.names import Table
from madlake.pipelines import reddit as pipeline
from madlake.sources.replay_server import ReplayServer

from tests.replay_faults import Fault, FaultyReplayServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "include" / "madlake" / "replay" / "reddit"
FIXTURES = ROOT / "tests" / "fixtures" / "reddit"
DAY = date(2025, 8, 8)
LISTING_0808 = SAMPLE / "localllama" / "listings" / "new_20250808T0118_a2b2bcfc9.json.gz"
SUBS = ["dataengineering", "LocalLLaMA", "MachineLearning"]


def query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params or []).to_pylist()


def snapshot_count(name: str) -> int:
    from madlake.lakehouse.tables import load_table

    table = load_table(name)
    table.refresh()
    return len(table.snapshots())


def replay_copy(tmp_path: Path) -> Path:
    target = tmp_path / "replay" / "reddit"
    shutil.copytree(SAMPLE, target)
    return target


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_replayed_ingest_then_load_gets_every_post_and_visible_comment(lakehouse: Path) -> None:
    summary = pipeline.ingest(DAY, subreddits=SUBS, threads=["1mkowrw"], max_attempts=1)
    assert summary["landing"].startswith("file://") and "/raw/reddit/2025-08-08/" in summary["landing"]
    assert summary["submissions_listed"] == 102
    # 100 LocalLLaMA threads have no recorded tree (404, like a removed post) and r/MachineLearning has no listing
    assert summary["skipped"] == 101 and summary["threads"] == 3
    loaded = pipeline.load(DAY)
    assert loaded["submissions"]["inserted"] == 103 and loaded["rejected"] == 0
    per_thread = {
        r["submission_id"]: r["n"]
        for r in query("select submission_id, count(*) as n from reddit_comments group by submission_id")
    }
    assert per_thread == {"pfwuyg": 166, "npxcqc": 168, "1mkowrw": 24}
    deleted = query("select count(*) as n, count(body) as with_body from reddit_comments where is_deleted")[0]
    assert deleted == {"n": 14, "with_body": 0}
    assert query("select count(*) as n from reddit_submissions")[0]["n"] == 103

    # loading the same landing again changes nothing, not even the snapshot list
    before = (snapshot_count(Table.REDDIT_SUBMISSIONS), snapshot_count(Table.REDDIT_COMMENTS))
    again = pipeline.load(DAY)
    assert again["submissions"]["committed"] is False and again["comments"]["committed"] is False
    assert (snapshot_count(Table.REDDIT_SUBMISSIONS), snapshot_count(Table.REDDIT_COMMENTS)) == before


def test_a_newer_listing_updates_overlapping_posts(lakehouse: Path, tmp_path: Path) -> None:
    pipeline.ingest(DAY, subreddits=["LocalLLaMA"], fetch_comments=False)
    pipeline.load(DAY)
    first = {
        r["id"]: r for r in query("select id, score, num_comments, last_seen_at, loaded_at from reddit_submissions")
    }

    # A later capture of the same listing the same day (derived for this test: the first 10 posts' stats moved).
    replay = replay_copy(tmp_path)
    listing = json.loads(gzip.decompress(LISTING_0808.read_bytes()))
    for child in listing["data"]["children"][:10]:
        child["data"]["score"] += 25
        child["data"]["num_comments"] += 4
    later = replay / "localllama" / "listings" / "new_20250808T1318_0bad0bad0.json.gz"
    later.write_bytes(gzip.compress(json.dumps(listing).encode()))
    pipeline.ingest(DAY, subreddits=["LocalLLaMA"], fetch_comments=False, replay_dir=replay)
    result = pipeline.load(DAY)
    assert result["landings"] == 2
    assert (result["submissions"]["inserted"], result["submissions"]["changed"]) == (0, 10)
    after = {
        r["id"]: r for r in query("select id, score, num_comments, last_seen_at, loaded_at from reddit_submissions")
    }
    assert len(after) == len(first) == 100
    bumped = listing["data"]["children"][:10]
    for child in bumped:
        row, old = after[child["data"]["id"]], first[child["data"]["id"]]
        assert (row["score"], row["num_comments"]) == (old["score"] + 25, old["num_comments"] + 4)
        assert row["last_seen_at"] > old["last_seen_at"] and row["loaded_at"] > old["loaded_at"]
    same = [i for i in after if i not in {c["data"]["id"] for c in bumped}]
    assert all(after[i]["loaded_at"] == first[i]["loaded_at"] for i in same)
    assert all(after[i]["last_seen_at"] > first[i]["last_seen_at"] for i in same)


def test_bad_records_go_to_the_dead_letter_table_and_good_ones_load(lakehouse: Path, tmp_path: Path) -> None:
    replay = replay_copy(tmp_path)

    def spoil_listing(listing: dict) -> None:
        children = listing["data"]["children"]
        children[0]["data"].pop("created_utc")
        children[1]["data"]["id"] = "Not-An-Id"
        children[2] = {"kind": "t3", "data": "a string, not a record"}

    def spoil_thread(thread: list) -> None:
        top = thread[1]["data"]["children"]
        top[0]["data"]["link_id"] = "nonsense"
        top[1]["data"]["replies"]["data"]["children"][0]["data"]["score"] = "many"

    shutil.rmtree(replay / "localllama")  # a flat replay folder (the recording of 2025-08-08 alone) still works
    rewrite(replay / "r" / "LocalLLaMA" / "new.json", spoil_listing)
    rewrite(replay / "comments" / "1mkowrw.json", spoil_thread)
    pipeline.ingest(DAY, subreddits=["LocalLLaMA"], threads=["1mkowrw"], replay_dir=replay, max_attempts=1)
    result = pipeline.load(DAY)
    assert result["rejected"] == 5
    assert query("select count(*) as n from reddit_submissions")[0]["n"] == 98  # 97 of the listing + 1mkowrw
    assert query("select count(*) as n from reddit_comments")[0]["n"] == 22
    dead = query(
        "select entity, record_id, reason, raw_payload, run_date from rejected_records where source = 'reddit' "
        "order by entity, record_id"
    )
    assert {d["run_date"] for d in dead} == {"2025-08-08"}
    reasons = {(d["entity"], d["record_id"]): d["reason"] for d in dead}
    listing = json.loads((replay / "r" / "LocalLLaMA" / "new.json").read_text())["data"]["children"]
    assert "created_utc" in reasons[("submission", listing[0]["data"]["id"])]
    assert "not a Reddit thing" in reasons[("submission", None)]
    assert any("base36" in r for (e, _), r in reasons.items() if e == "submission")
    assert any("link_id" in r for (e, _), r in reasons.items() if e == "comment")
    assert any("score" in r for (e, _), r in reasons.items() if e == "comment")
    assert all(d["raw_payload"] for d in dead)
    # rerunning the load replaces the day's dead letters instead of duplicating them
    pipeline.load(DAY)
    assert query("select count(*) as n from rejected_records where source = 'reddit'")[0]["n"] == 5


def test_rate_limits_server_errors_and_truncation_are_retried_or_skipped(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter, list_landings, read_landing

    sleeps: list[float] = []
    faults = [
        Fault("/r/dataengineering/new*", status=429, retry_after=7, times=1),
        Fault("/comments/npxcqc*", status=429, retry_after=1, times=None),
        Fault("/comments/pfwuyg*", status=None, truncate=1000, times=1),
    ]
    writer = LandingWriter(get_settings().raw_uri, DAY, datetime.now(UTC))
    with FaultyReplayServer(SAMPLE, faults=faults) as server:
        reddit = make_reddit(Credentials("id", "secret", "madlake-tests"), server.url)
        fetcher = RedditFetcher(reddit, writer, max_attempts=3, sleep=sleeps.append)
        ids = fetcher.fetch_new("dataengineering")
        counts = [fetcher.fetch_thread(i, "r_dataengineering") for i in ids]
        statuses = [(r.path, r.status) for r in server.requests if r.method == "GET"]
    writer.finish(fetcher.stats.summary())
    assert ids == ["pfwuyg", "npxcqc"]
    assert counts == [166, 0]  # the truncated answer was retried by prawcore; the rate-limited thread was skipped
    assert sleeps[0] == 7.0 and sleeps[1:] == [1.0, 1.0]  # Retry-After honoured
    assert statuses.count(("/comments/npxcqc", 429)) == 3
    skipped = fetcher.stats.skipped
    assert [(s["path"], s["status"]) for s in skipped] == [("comments/npxcqc", 429)]
    assert "gave up after 3 attempts" in skipped[0]["reason"]
    (landing,) = list_landings(get_settings().raw_uri, DAY)
    assert landing.manifest["skipped"] == skipped
    lines = list(read_landing(landing.uri))
    assert [line.get("status") for line in lines] == [200, 200, 429]


def test_replace_more_expands_stubs_within_the_budget(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter

    # Derived for this test from the real 1mkowrw thread: its last 3 top-level comments are folded into a "more"
    # stub, and /api/morechildren answers them, as Reddit does for large threads.
    replay = replay_copy(tmp_path)
    thread = json.loads((replay / "comments" / "1mkowrw.json").read_text())
    top = thread[1]["data"]["children"]
    hidden = top[-3:]
    top[-3:] = [
        {
            "kind": "more",
            "data": {
                "count": 3,
                "children": [c["data"]["id"] for c in hidden],
                "id": hidden[0]["data"]["id"],
                "parent_id": "t3_1mkowrw",
                "depth": 0,
            },
        }
    ]
    (replay / "comments" / "1mkowrw.json").write_text(json.dumps(thread))
    flat = []
    for c in hidden:
        stack = [c]
        while stack:
            node = stack.pop(0)
            replies = node["data"].get("replies")
            flat.append({"kind": "t1", "data": {**node["data"], "replies": ""}})
            if isinstance(replies, dict):
                stack.extend(replies["data"]["children"])
    (replay / "api").mkdir()
    (replay / "api" / "morechildren.json").write_text(json.dumps({"json": {"errors": [], "data": {"things": flat}}}))

    results = {}
    for budget in (0, 1):
        writer = LandingWriter(get_settings().raw_uri, DAY, datetime.now(UTC))
        with ReplayServer(replay) as server:
            fetcher = RedditFetcher(make_reddit(Credentials("i", "s", "t"), server.url), writer)
            results[budget] = (fetcher.fetch_thread("1mkowrw", "threads", more_budget=budget), fetcher.stats)
        writer.finish(fetcher.stats.summary())
    assert results[1][0] == 24 and results[1][1].more_calls == 1 and not results[1][1].skipped
    assert results[0][0] == 24 - len(flat)
    assert "budget" in results[0][1].skipped[0]["reason"]
    loaded = pipeline.load(DAY)
    assert loaded["comments"]["inserted"] == 24


def test_archive_backfill_merges_the_range_and_never_overrides_fresher_api_rows(lakehouse: Path) -> None:
    june = pipeline.archive_backfill("dataengineering", date(2021, 6, 1), date(2021, 6, 30), archive=str(FIXTURES))
    assert june["submissions"]["merged"] == 1  # npxcqc; pfwuyg is September
    in_june = june["comments"]["in_range"]
    assert 0 < in_june < 168 and june["comments"]["merged"] == in_june - 2  # 2 invalid records in range
    assert june["comments"]["rejected"] == 4
    full = pipeline.archive_backfill("dataengineering", date(2021, 1, 1), date(2022, 12, 31), archive=str(FIXTURES))
    assert full["comments"]["inserted"] == 334 - june["comments"]["merged"]
    assert query("select count(*) as n from reddit_comments")[0]["n"] == 334
    sources = {r["source"]: r["n"] for r in query("select source, count(*) as n from reddit_comments group by 1")}
    assert sources == {"pushshift": 168, "arctic_shift": 166}
    dead = query("select count(*) as n from rejected_records where source = 'reddit_archive'")[0]["n"]
    assert dead == 4 + 4 and dead > 0  # one set per run day (start), replaced on rerun

    # rerun: nothing changes
    before = snapshot_count(Table.REDDIT_COMMENTS)
    again = pipeline.archive_backfill("dataengineering", date(2021, 1, 1), date(2022, 12, 31), archive=str(FIXTURES))
    assert again["comments"]["changed"] == 0 and again["comments"]["inserted"] == 0
    assert snapshot_count(Table.REDDIT_COMMENTS) == before

    # the API's copy (observed now) takes over; the archive replayed afterwards does not roll it back
    pipeline.ingest(DAY, subreddits=["dataengineering"])
    pipeline.load(DAY)
    pipeline.archive_backfill("dataengineering", date(2021, 1, 1), date(2022, 12, 31), archive=str(FIXTURES))
    rows = query("select source, count(*) as n, count(depth) as with_depth from reddit_comments group by 1")
    assert rows == [{"source": "api", "n": 334, "with_depth": 334}]


def test_archive_backfill_names_a_missing_dump(lakehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="analytics_submissions"):
        pipeline.archive_backfill("analytics", date(2021, 1, 1), date(2021, 1, 2), archive=str(tmp_path))


def test_load_without_a_landing_says_what_to_run(lakehouse: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run reddit_ingest for 2020-01-01"):
        pipeline.load(date(2020, 1, 1))


def test_ignores_incomplete_landings(lakehouse: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.landing import list_landings

    pipeline.ingest(DAY, subreddits=["dataengineering"], fetch_comments=False)
    crashed = Path(get_settings().home_dir) / "warehouse" / "raw" / "reddit" / DAY.isoformat() / "20990101T000000Z"
    crashed.mkdir()
    (crashed / "r_dataengineering.jsonl.gz").write_bytes(b"\x1f\x8b partial")
    assert len(list_landings(get_settings().raw_uri, DAY)) == 1
    assert pipeline.load(DAY)["landings"] == 1


def test_listings_paginate_with_the_after_cursor(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter

    # The real 100-post listing split into two pages (60 + 40) chained by `after`, as Reddit pages it.
    listing = json.loads((SAMPLE / "r" / "LocalLLaMA" / "new.json").read_text())
    children = listing["data"]["children"]
    first = {**listing, "data": {**listing["data"], "children": children[:60], "after": children[59]["data"]["name"]}}
    second = {**listing, "data": {**listing["data"], "children": children[60:], "after": None}}
    root = tmp_path / "paged"
    (root / "r" / "LocalLLaMA").mkdir(parents=True)
    (root / "r" / "LocalLLaMA" / "new.json").write_text(json.dumps(first))
    (root / "r" / "LocalLLaMA" / f"new@after={children[59]['data']['name']}.json").write_text(json.dumps(second))
    expected = [c["data"]["id"] for c in children]

    def fetch(limit: int, query_keys: tuple[str, ...]) -> tuple[list[str], list[dict]]:
        writer = LandingWriter(get_settings().raw_uri, DAY, datetime.now(UTC))
        with ReplayServer(root, query_keys=query_keys) as server:
            fetcher = RedditFetcher(make_reddit(Credentials("i", "s", "t"), server.url), writer)
            ids = fetcher.fetch_new("LocalLLaMA", limit)
            queries = [r.query for r in server.requests if r.method == "GET"]
        writer.finish(fetcher.stats.summary())
        return ids, queries

    ids, queries = fetch(100, ("after",))
    assert ids == expected
    assert [(q.get("limit"), q.get("after")) for q in queries] == [("100", None), ("40", children[59]["data"]["name"])]
    ids, queries = fetch(70, ("after",))
    assert ids == expected[:70] and [q["limit"] for q in queries] == ["70", "10"]
    # a server that ignores the cursor (answers page 1 again) cannot make the loop run for ever
    ids, queries = fetch(500, ())
    assert ids == expected[:60] and len(queries) == 2


def test_asset_triggered_load_covers_the_days_of_the_ingest_events() -> None:
    from types import SimpleNamespace

    events = {
        "raw://madlake/reddit": [
            SimpleNamespace(extra={"day": "2025-08-08", "landing": "s3://x"}),
            SimpleNamespace(extra={"day": "2025-08-07"}),
            SimpleNamespace(extra={}),
        ]
    }
    assert pipeline.days_to_load({"triggering_asset_events": events}) == [date(2025, 8, 7), date(2025, 8, 8)]
    explicit = {"dag_run": SimpleNamespace(conf={"date": "2024-02-29"}), "triggering_asset_events": events}
    assert pipeline.days_to_load(explicit) == [date(2024, 2, 29)]
    # an ingest that landed nothing (a replayed day without a recorded listing) triggers a load of nothing
    empty = {"raw://madlake/reddit": [SimpleNamespace(extra={"day": "2025-07-05", "landing": None})]}
    assert pipeline.days_to_load({"triggering_asset_events": empty}) == []
    assert pipeline.load_task({"triggering_asset_events": empty}) == []
    both = {"raw://madlake/reddit": [*empty["raw://madlake/reddit"], *events["raw://madlake/reddit"]]}
    assert pipeline.days_to_load({"triggering_asset_events": both}) == [date(2025, 8, 7), date(2025, 8, 8)]


def test_praws_rate_limiter_paces_requests_on_reddits_headers(lakehouse: Path) -> None:
    import time

    from madlake.config import get_settings
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter

    exhausted = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "1"}
    writer = LandingWriter(get_settings().raw_uri, DAY, datetime.now(UTC))
    with FaultyReplayServer(SAMPLE, faults=[Fault("/r/*", status=None, headers=exhausted)]) as server:
        fetcher = RedditFetcher(make_reddit(Credentials("i", "s", "t"), server.url), writer)
        fetcher.fetch_new("dataengineering")
        start = time.perf_counter()
        fetcher.fetch_thread("npxcqc", "r_dataengineering")
        waited = time.perf_counter() - start
    writer.finish(fetcher.stats.summary())
    assert waited >= 0.9, f"praw did not wait for the rate-limit window ({waited:.2f}s)"


def test_ingest_fails_when_nothing_at_all_answers(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.landing import list_landings

    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="every request failed"):
        pipeline.ingest(DAY, subreddits=["dataengineering", "analytics"], replay_dir=tmp_path / "empty")
    (landing,) = list_landings(get_settings().raw_uri, DAY)  # the landing still says what failed
    assert [s["status"] for s in landing.manifest["skipped"]] == [404, 404]


def test_client_errors_are_skipped_without_retrying(lakehouse: Path) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter

    sleeps: list[float] = []
    writer = LandingWriter(get_settings().raw_uri, DAY, datetime.now(UTC))
    faults = [Fault("/comments/npxcqc*", status=400, times=None), Fault("/comments/pfwuyg*", status=502, times=1)]
    with FaultyReplayServer(SAMPLE, faults=faults) as server:
        fetcher = RedditFetcher(make_reddit(Credentials("i", "s", "t"), server.url), writer, sleep=sleeps.append)
        counts = [fetcher.fetch_thread(i, "threads") for i in ("npxcqc", "pfwuyg")]
        requested = [r.path for r in server.requests if r.method == "GET"]
    writer.finish(fetcher.stats.summary())
    assert counts == [0, 166]  # 400: skipped at once; 502: retried by prawcore, then answered
    assert requested.count("/comments/npxcqc") == 1 and sleeps == []
    assert [(s["path"], s["status"]) for s in fetcher.stats.skipped] == [("comments/npxcqc", 400)]
