from __future__ import annotations

from datetime import date
from pathlib import Path

from madlake.lakehouse.deadletter import MAX_PAYLOAD_CHARS, Rejection, payload_text, write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext
from madlake.names import Table

CTX = CommitContext("reddit_load", "run-1", "reddit")


def test_payload_text_survives_bad_utf8_huge_and_odd_payloads() -> None:
    assert payload_text(b"\xff\xfeok") == "\ufffd\ufffdok"
    assert payload_text({"a": [1, {"b": None}]}) == '{"a": [1, {"b": null}]}'
    assert payload_text("x" * (MAX_PAYLOAD_CHARS + 10)).endswith("[truncated 10 chars]")
    assert payload_text(object()).startswith('"<object object')


def test_dead_letters_of_a_day_are_replaced_on_rerun(lakehouse: Path) -> None:
    day = date(2024, 3, 1)
    bad = [Rejection("score: not an int", {"id": "x1", "score": "lots"}, "x1"), Rejection("missing id", b"\xff")]
    write_dead_letters("reddit", "comment", day, bad, CTX)
    write_dead_letters("reddit", "comment", day, bad, CTX)  # rerun of the same day
    write_dead_letters("reddit", "submission", day, bad[:1], CTX)  # another entity is kept apart
    rows = load_table(Table.REJECTED_RECORDS).scan().to_arrow().to_pylist()
    assert sorted((r["entity"], r["record_id"] or "", r["reason"]) for r in rows) == [
        ("comment", "", "missing id"),
        ("comment", "x1", "score: not an int"),
        ("submission", "x1", "score: not an int"),
    ]
    assert all(r["run_date"] == "2024-03-01" and r["run_id"] == "run-1" for r in rows)
