"""Reddit records → rows: the real API responses, the archive dialect, bad records, deletions, the subreddit list."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from madlake.models.reddit import comment_row, rejection_reason, submission_row
from madlake.sources.reddit import DEFAULT_SUBREDDITS, tracked_subreddits
from madlake.sources.reddit.archive import ReadStats, iter_records, observed_at, source_of
from madlake.sources.reddit.parse import parse_response
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "include" / "madlake" / "replay" / "reddit"
FIXTURES = ROOT / "tests" / "fixtures" / "reddit"
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def load(rel: str):
    return json.loads((SAMPLE / rel).read_text())


@pytest.mark.parametrize(("thread", "comments"), [("pfwuyg", 166), ("npxcqc", 168), ("1mkowrw", 24)])
def test_every_comment_of_the_real_threads_parses(thread: str, comments: int) -> None:
    parsed = parse_response("comments", load(f"comments/{thread}.json"), observed_at=AT)
    assert len(parsed.comments) == comments
    assert [s["id"] for s in parsed.submissions] == [thread]
    assert not parsed.rejected_comments and not parsed.rejected_submissions
    ids = [c["id"] for c in parsed.comments]
    assert len(set(ids)) == len(ids)
    # the tree is flattened with parents before children, and every parent is in the thread or is the post
    seen = {f"t3_{thread}"}
    for c in parsed.comments:
        assert c["parent_id"] in seen
        seen.add(c["fullname"])
        assert c["link_id"] == f"t3_{thread}" and c["submission_id"] == thread
        assert "replies" not in (json.loads(c["raw_json"]) if c["raw_json"] else {})


def test_listing_rows_carry_typed_columns() -> None:
    parsed = parse_response("listing", load("r/LocalLLaMA/new.json"), observed_at=AT)
    assert len(parsed.submissions) == 100
    first = parsed.submissions[0]
    raw = load("r/LocalLLaMA/new.json")["data"]["children"][0]["data"]
    assert first["id"] == raw["id"] and first["fullname"] == raw["name"]
    assert first["title"] == raw["title"] and first["score"] == raw["score"]
    assert first["created_at"] == datetime.fromtimestamp(raw["created_utc"], tz=UTC)
    assert first["first_seen_at"] == first["last_seen_at"] == AT
    assert json.loads(first["raw_json"]) == raw  # the JSON the API returned, not a praw object


def test_deleted_comments_keep_stats_but_lose_text() -> None:
    parsed = parse_response("comments", load("comments/pfwuyg.json"), observed_at=AT)
    deleted = [c for c in parsed.comments if c["is_deleted"]]
    assert len(deleted) == 8
    for c in deleted:
        assert c["body"] is None and c["author"] is None and c["raw_json"] is None
        assert c["score"] is not None and c["created_at"] is not None
    # an account deletion alone (author "[deleted]", body intact) keeps the text but not the author
    orphaned = [c for c in parsed.comments if not c["is_deleted"] and c["author"] is None]
    assert orphaned and all(c["body"] for c in orphaned)


def test_removed_submission_clears_title_and_body() -> None:
    record = copy.deepcopy(load("comments/npxcqc.json")[0]["data"]["children"][0]["data"])
    record.update(selftext="[removed]", removed_by_category="moderator")
    row = submission_row(record, source="api", observed_at=AT)
    assert row["is_removed"] and not row["is_deleted"]
    assert row["title"] is None and row["selftext"] is None and row["author"] is None
    assert row["score"] == record["score"] and row["num_comments"] == record["num_comments"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r.pop("created_utc"), "created_utc"),
        (lambda r: r.update(created_utc="yesterday"), "created_utc"),
        (lambda r: r.update(created_utc=4102444800), "outside Reddit's lifetime"),
        (lambda r: r.update(id="NOT VALID"), "base36"),
        (lambda r: r.update(score="lots"), "score"),
        (lambda r: r.pop("subreddit"), "subreddit"),
        (lambda r: r.update(upvote_ratio=7), "upvote_ratio"),
        (lambda r: r.pop("title"), "title"),
    ],
)
def test_invalid_submissions_raise_with_a_reason_naming_the_field(mutate, reason: str) -> None:
    record = copy.deepcopy(load("r/LocalLLaMA/new.json")["data"]["children"][3]["data"])
    mutate(record)
    with pytest.raises(ValidationError) as exc:
        submission_row(record, source="api", observed_at=AT)
    assert reason in rejection_reason(exc.value)


def test_a_bad_record_in_a_listing_is_rejected_and_the_others_load() -> None:
    listing = load("r/LocalLLaMA/new.json")
    children = listing["data"]["children"]
    children[5]["data"]["created_utc"] = None
    children[6] = "not a thing"
    children[7] = {"kind": "t5", "data": {"id": "abc"}}
    parsed = parse_response("listing", listing, observed_at=AT)
    assert len(parsed.submissions) == 97
    assert [r.record_id for r in parsed.rejected_submissions] == [children[5]["data"]["id"], None, "abc"]
    assert "created_utc" in parsed.rejected_submissions[0].reason
    assert parsed.rejected_submissions[0].raw["title"] == children[5]["data"]["title"]


def test_unrecognised_envelopes_are_rejected_whole() -> None:
    assert parse_response("comments", {"kind": "Listing"}, observed_at=AT).rejected_comments
    assert parse_response("listing", [1, 2], observed_at=AT).rejected_submissions
    more = parse_response("morechildren", {"json": {"errors": []}}, observed_at=AT)
    assert more.rejected_comments and "things" in more.rejected_comments[0].reason


def test_morechildren_things_parse_as_comments() -> None:
    thread = load("comments/1mkowrw.json")
    flat = [{"kind": "t1", "data": {**c["data"], "replies": ""}} for c in thread[1]["data"]["children"]]
    parsed = parse_response("morechildren", {"json": {"errors": [], "data": {"things": flat}}}, observed_at=AT)
    assert len(parsed.comments) == len(flat) == 11


def test_archive_dump_needs_the_2gib_window_and_reads_both_dialects() -> None:
    dump = FIXTURES / "dataengineering_comments.zst"
    with pytest.raises(zstandard.ZstdError):
        zstandard.ZstdDecompressor().stream_reader(dump.open("rb")).read()
    stats = ReadStats()
    records = list(iter_records(str(dump), stats))
    good = [r for _, r, _ in records if r is not None]
    assert len(records) == 334 + 4 and len(good) == 334 + 2 and stats.bad_lines == 2
    assert stats.bytes_decompressed > dump.stat().st_size
    rows, rejected = [], []
    for record in good:
        try:
            rows.append(comment_row(record, source=source_of(record), observed_at=observed_at(record)))
        except ValidationError as exc:
            rejected.append(rejection_reason(exc))
    assert len(rows) == 334 and len(rejected) == 2
    assert {r["source"] for r in rows} == {"pushshift", "arctic_shift"}
    assert all(r["depth"] is None or r["depth"] == 0 for r in rows)  # archives have no depth; top level is known
    assert sum(r["depth"] == 0 for r in rows) == 70 + 77


def test_missing_dump_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope_comments\.zst"):
        list(iter_records(str(tmp_path / "nope_comments.zst")))


def test_tracked_subreddits_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MADLAKE_SUBREDDITS", raising=False)
    assert tracked_subreddits() == list(DEFAULT_SUBREDDITS)
    monkeypatch.setenv("MADLAKE_SUBREDDITS", " dataengineering, r/LocalLLaMA,dataengineering ")
    assert tracked_subreddits() == ["dataengineering", "LocalLLaMA"]
    monkeypatch.setenv("MADLAKE_SUBREDDITS", "ok_name,bad name")
    with pytest.raises(ValueError, match="bad name"):
        tracked_subreddits()
