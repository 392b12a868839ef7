"""Table fingerprints: order- and layout-free, sensitive to duplicates and to any changed value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from tests.fingerprint import diff, fingerprint_arrow, fingerprint_lakehouse

ROWS = pa.table(
    {
        "day": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 2)],
        "tool_id": ["duckdb", "polars", "duckdb"],
        "downloads": [10, 20, 30],
        "tags": [["a"], [], None],
        "loaded_at": pa.array([datetime(2024, 1, 3, tzinfo=UTC)] * 3, pa.timestamp("us", "UTC")),
    }
)
KEY = ("day", "tool_id")


def test_same_rows_in_any_order_give_the_same_fingerprint() -> None:
    a = fingerprint_arrow("t", ROWS, key=KEY)
    b = fingerprint_arrow("t", ROWS.take([2, 0, 1]), key=KEY)
    assert a.same_content(b) and a.rows == 3 and a.duplicate_keys == 0


def test_a_duplicated_row_changes_the_fingerprint_and_counts_as_duplicate_key() -> None:
    doubled = pa.concat_tables([ROWS, ROWS.slice(0, 1)])
    a = fingerprint_arrow("t", ROWS, key=KEY)
    b = fingerprint_arrow("t", doubled, key=KEY)
    assert not a.same_content(b)
    assert b.duplicate_keys == 1
    # XOR-based hashes would cancel a row that appears twice; the sum does not.
    quadrupled = pa.concat_tables([ROWS, ROWS.slice(0, 1), ROWS.slice(0, 1)])
    assert fingerprint_arrow("t", quadrupled).row_hash != a.row_hash


def test_one_changed_value_changes_the_fingerprint() -> None:
    changed = ROWS.set_column(2, "downloads", pa.array([10, 20, 31]))
    assert not fingerprint_arrow("t", ROWS).same_content(fingerprint_arrow("t", changed))
    nested = ROWS.set_column(3, "tags", pa.array([["b"], [], None]))
    assert not fingerprint_arrow("t", ROWS).same_content(fingerprint_arrow("t", nested))


def test_load_time_columns_are_excluded_and_named() -> None:
    later = ROWS.set_column(4, "loaded_at", pa.array([datetime(2025, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us", "UTC")))
    a, b = fingerprint_arrow("t", ROWS), fingerprint_arrow("t", later)
    assert a.same_content(b)
    assert a.excluded == ("loaded_at",)
    strict = fingerprint_arrow("t", later, exclude=())
    assert not strict.same_content(fingerprint_arrow("t", ROWS, exclude=()))


def test_empty_tables_and_diff_report() -> None:
    empty = fingerprint_arrow("t", ROWS.slice(0, 0))
    assert empty.rows == 0 and empty.row_hash == "0"
    before = {"t": fingerprint_arrow("t", ROWS)}
    assert diff(before, {"t": fingerprint_arrow("t", ROWS)}) == []
    problems = diff(before, {"t": fingerprint_arrow("t", ROWS.slice(0, 2)), "u": empty})
    assert problems[0].startswith("t: 3 rows") and problems[1] == "u: appeared"


def test_fingerprint_lakehouse_reads_every_table(lakehouse: Path) -> None:
    from madlake.lakehouse.tables import ensure_tables

    assert fingerprint_lakehouse() == {}
    ensure_tables()
    prints = fingerprint_lakehouse()
    assert "rejected_records" in prints and prints["rejected_records"].rows == 0
    assert "audit_results" not in fingerprint_lakehouse(skip=["audit_results"])
