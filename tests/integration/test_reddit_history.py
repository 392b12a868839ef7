"""The recorded r/LocalLLaMA history replayed day by day through the real praw client, and the salary threads through
the archive backfill. All data: the bundled trimmed copy of genuine recorded responses."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from madlake.names import Dag, Table
from madlake.pipelines import reddit_archive, reddit_ingest, reddit_load

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "include" / "madlake" / "replay" / "reddit"
HISTORY = REPLAY / "localllama"


def query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params or []).to_pylist()


def tree_comments(post_id: str) -> list[dict]:
    """Every t1 record of a bundled tree (replies flattened)."""
    body = json.loads(gzip.decompress((HISTORY / "comments" / f"{post_id}.json.gz").read_bytes()))
    out, stack = [], list(body[1]["data"]["children"])
    while stack:
        node = stack.pop()
        if node.get("kind") == "t1":
            out.append(node["data"])
            replies = node["data"].get("replies")
            if isinstance(replies, dict):
                stack += replies["data"]["children"]
    return out


def listed(day: str) -> list[str]:
    ids: list[str] = []
    for f in sorted((HISTORY / "listings").glob(f"new_{day}T*.json.gz")):
        ids += [c["data"]["id"] for c in json.loads(gzip.decompress(f.read_bytes()))["data"]["children"]]
    return list(dict.fromkeys(ids))


def test_a_replayed_day_serves_its_listings_and_only_the_comments_created_by_its_end(lakehouse: Path) -> None:
    day = date(2025, 7, 6)
    end = datetime(2025, 7, 7, tzinfo=UTC)
    summary = reddit_ingest.ingest(day, subreddits=["LocalLLaMA"])
    assert summary["rounds"] == 2 and summary["submissions_listed"] == 200  # the captures of 10:19 and 17:08
    reddit_load.load(day)
    ids = listed("20250706")
    recorded = [c for i in ids if (HISTORY / "comments" / f"{i}.json.gz").is_file() for c in tree_comments(i)]
    by_then = {c["id"] for c in recorded if c["created_utc"] <= end.timestamp()}
    assert len(by_then) < len(recorded)  # the trees (captured 2025-08-08) hold later comments: they must be cut
    loaded = {r["id"] for r in query("select id from reddit_comments")}
    assert loaded == by_then
    newest = query("select max(created_at) as t from reddit_comments")[0]["t"]
    assert newest < end
    assert query("select count(distinct id) as n from reddit_submissions")[0]["n"] == len(ids)


def test_genuine_figures_of_a_post_on_its_day(lakehouse: Path) -> None:
    # 1lrsx20 "How RAG actually works — a toy example with real math": score 577 in the 10:19 capture of 2025-07-06,
    # 591 (65 comments) in the 17:08 one, 627 (66 comments) in its tree captured 2025-08-08.
    day = date(2025, 7, 6)
    reddit_ingest.ingest(day, subreddits=["LocalLLaMA"], fetch_comments=False)
    reddit_load.load(day)
    row = query(
        "select title, score, num_comments, first_seen_at, last_seen_at from reddit_submissions where id = '1lrsx20'"
    )[0]
    assert row["title"] == "How RAG actually works — a toy example with real math"
    assert (row["score"], row["num_comments"]) == (591, 65)  # the newer capture of the day wins
    assert row["first_seen_at"] == datetime(2025, 7, 6, 10, 19, tzinfo=UTC)
    assert row["last_seen_at"] == datetime(2025, 7, 6, 17, 8, tzinfo=UTC)
    reddit_ingest.ingest(day, subreddits=["LocalLLaMA"])  # now with the trees: the 2025-08-08 observation is newer
    reddit_load.load(day)
    row = query("select score, num_comments from reddit_submissions where id = '1lrsx20'")[0]
    assert (row["score"], row["num_comments"]) == (627, 66)


def test_a_day_without_a_listing_succeeds_and_lands_nothing(lakehouse: Path, caplog: pytest.LogCaptureFixture) -> None:
    from madlake.config import get_settings
    from madlake.sources.reddit.landing import list_landings

    day = date(2025, 7, 5)  # the recording has no capture that day
    caplog.set_level("INFO")
    summary = reddit_ingest.ingest(day)
    assert summary["landing"] is None and summary["rounds"] == 0
    assert "no r/LocalLLaMA listing was captured that day; nothing landed" in caplog.text
    assert list_landings(get_settings().raw_uri, day) == []
    assert reddit_load.load(day, missing_ok=True)["landings"] == 0
    with pytest.raises(FileNotFoundError, match="run reddit_ingest"):
        reddit_load.load(day)


def _tables() -> dict[str, list[dict]]:
    """Both tables, every column but ``loaded_at`` (the wall-clock time of a write), ordered by id."""
    return {
        name: query(f"select * exclude (loaded_at) from {name} order by id")
        for name in (Table.REDDIT_SUBMISSIONS, Table.REDDIT_COMMENTS)
    }


def test_rerun_and_out_of_order_days_give_identical_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.lakehouse.catalog import reset_catalog_cache

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    prints = []
    for name, days in (("in_order", [2, 3, 4]), ("shuffled", [4, 2, 3, 2, 4])):
        monkeypatch.setenv("MADLAKE_HOME", str(tmp_path / name))
        reset_catalog_cache()
        for d in days:
            reddit_ingest.ingest(date(2025, 7, d), subreddits=["LocalLLaMA"])
            reddit_load.load(date(2025, 7, d))
        prints.append(_tables())
    reset_catalog_cache()
    assert len(prints[0][Table.REDDIT_COMMENTS]) > 1000 and len(prints[0][Table.REDDIT_SUBMISSIONS]) > 200
    assert prints[0] == prints[1]  # seen-times included: they are the capture times, whatever the order


def test_live_mode_refuses_a_past_day_before_any_request(lakehouse: Path) -> None:
    today = datetime.now(UTC).date()
    reddit_ingest.refuse_live_past_day(today)  # "now" is fine
    with pytest.raises(reddit_ingest.LivePastDayError, match="live mode only knows now"):
        reddit_ingest.ingest(date(2025, 7, 6), mode="live")  # no credentials are needed to refuse


def test_live_past_day_fails_the_dag_run_without_retries(lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
    with pytest.raises(DagRunFailedError) as exc:
        run_dag(Dag.REDDIT_INGEST, date(2025, 7, 6), retries=True)
    # AirflowFailException: failed at once, not up_for_retry (the task has 2 retries by default)
    assert "['ingest=failed']" in str(exc.value)


def test_empty_replayed_day_through_airflow_then_load_of_a_day_with_data(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag

    run_dag(Dag.REDDIT_INGEST, date(2025, 7, 5), conf={"subreddits": "LocalLLaMA"})
    run_dag(Dag.REDDIT_INGEST, date(2025, 7, 4), conf={"subreddits": "LocalLLaMA"})
    run_dag(Dag.REDDIT_LOAD, None, conf={"date": "2025-07-04"})
    assert query("select count(*) as n from reddit_submissions")[0]["n"] == len(listed("20250704"))


def test_salary_threads_go_through_the_archive_backfill(lakehouse: Path, tmp_path: Path) -> None:
    import zstandard
    from madlake.sources.reddit.archive import threads_to_archive

    files = reddit_archive.default_thread_files(REPLAY)
    assert len(files) == 5  # dec 2021, mar 2022, jun 2022 (history layout) + jun, sep 2021 (flat recordings)
    counts = threads_to_archive(files, str(tmp_path / "dumps"))
    assert counts == {"dataengineering_submissions.zst": 5, "dataengineering_comments.zst": 882}
    with (tmp_path / "dumps" / "dataengineering_comments.zst").open("rb") as f:
        lines = zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()
    assert len(lines) == 882 and all(isinstance(json.loads(line), dict) for line in lines)

    summary = reddit_archive.recorded_threads_backfill("dataengineering", date(2021, 6, 1), date(2022, 12, 31))
    assert summary["comments"]["merged"] == 882 and summary["submissions"]["merged"] == 5
    per_thread = {
        r["submission_id"]: r["n"]
        for r in query("select submission_id, count(*) as n from reddit_comments group by 1 order by 1")
    }
    assert per_thread == {"npxcqc": 168, "pfwuyg": 166, "r6jfnm": 179, "t4clep": 182, "v2ka3w": 187}
    assert {r["source"] for r in query("select distinct source from reddit_comments")} == {"pushshift"}
    again = reddit_archive.recorded_threads_backfill("dataengineering", date(2021, 6, 1), date(2022, 12, 31))
    assert again["comments"]["inserted"] == again["comments"]["changed"] == 0


def test_archive_backfill_dag_reads_the_recorded_threads(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag

    conf = {"subreddit": "dataengineering", "start": "2021-12-01", "end": "2021-12-31", "recorded_threads": True}
    run_dag(Dag.REDDIT_ARCHIVE_BACKFILL, None, conf=conf)
    assert query("select count(*) as n from reddit_submissions")[0]["n"] == 1  # r6jfnm, posted 2021-12-01
    december = query("select count(*) as n from reddit_comments")[0]["n"]
    assert 0 < december < 179


def test_cli_backfills_a_range_and_reports_each_day(lakehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from madlake.cli import main

    code = main(["reddit", "backfill", "--start", "2025-07-04", "--end", "2025-07-05", "--subreddits", "LocalLLaMA"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2025-07-05: nothing recorded: nothing landed" in out
    assert "2 day(s): 1 with data, 1 empty, 0 failed" in out
    assert query("select count(*) as n from reddit_submissions")[0]["n"] == len(listed("20250704"))
    assert main(["reddit", "replay-days"]) == 0
    assert "34 recorded days, 61 listing captures: 2025-07-02 .. 2025-08-08" in capsys.readouterr().out


def test_a_range_load_in_one_merge_equals_loading_day_by_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.orchestration.runner import run_dag

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    prints = []
    for name in ("day_by_day", "range"):
        monkeypatch.setenv("MADLAKE_HOME", str(tmp_path / name))
        reset_catalog_cache()
        for d in (2, 3, 4, 5):  # 2025-07-05 has no recorded listing
            reddit_ingest.ingest(date(2025, 7, d), subreddits=["LocalLLaMA"])
        if name == "day_by_day":
            for d in (2, 3, 4):
                reddit_load.load(date(2025, 7, d))
        else:
            run_dag(Dag.REDDIT_LOAD, None, conf={"start": "2025-07-02", "end": "2025-07-05"})
        prints.append(_tables())
    reset_catalog_cache()
    assert len(prints[0][Table.REDDIT_COMMENTS]) > 1000
    assert prints[0] == prints[1]
