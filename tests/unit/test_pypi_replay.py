"""Replay files, row validation at the boundary, and the generated test days (bench/synth/pypi_days.py)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from madlake.sources.pypi.models import parse_rows
from madlake.sources.pypi.replay import available_days, read_day

from bench.synth.pypi_days import day_rows, monthly_totals
from tests.conftest import REPLAY_DIR

DAY = date(2026, 3, 14)


def row(**overrides) -> dict:
    base = {"download_date": "2026-03-14", "project": "duckdb", "version": "1.2.0", "downloads": 5}
    return {**base, **overrides}


def test_rows_are_normalized_at_the_boundary() -> None:
    parsed = parse_rows(
        [
            row(project="Great_Expectations", python_version="3.11.4", country_code="de", installer=" ", ci=None),
            row(downloads="123456789012"),  # Int64 quoted by ClickHouse / the BigQuery REST API
        ],
        DAY,
        "bigquery",
    )
    assert not parsed.rejections
    first, second = parsed.rows
    assert first["project"] == "great-expectations"
    assert (first["python_version"], first["country_code"], first["installer"]) == ("3.11", "DE", None)
    assert first["source"] == "bigquery" and second["downloads"] == 123456789012


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (row(downloads=1.5), "downloads"),
        (row(downloads=True), "downloads"),
        (row(version=""), "version"),
        (row(extra_column=1), "extra_column"),
        (row(download_date="2026-03-13"), "not the run day"),
        (["not", "an", "object"], "not a JSON object"),
        ({"project": "duckdb"}, "download_date"),
    ],
)
def test_malformed_rows_are_rejected_with_a_reason(record, reason: str) -> None:
    parsed = parse_rows([record], DAY, "replay")
    assert not parsed.rows
    ((why, raw, record_id),) = parsed.rejections
    assert reason in why and raw == record and record_id == "2026-03-14#1"


def test_replay_reads_plain_and_gzipped_days_and_names_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "2026-03-14.jsonl").write_text(json.dumps(row()) + "\n\n{broken\n")
    (tmp_path / "2026-03-15.jsonl.gz").write_bytes(gzip.compress((json.dumps(row()) + "\n").encode()))
    plain = read_day(tmp_path, DAY)
    assert len(plain.records) == 2 and plain.source == "replay"
    parsed = parse_rows(plain.records, DAY, plain.source)
    assert len(parsed.rows) == 1 and "line 3: invalid JSON" in parsed.rejections[0][0]
    assert len(read_day(tmp_path, date(2026, 3, 15)).records) == 1
    assert available_days(tmp_path) == [DAY, date(2026, 3, 15)]
    with pytest.raises(FileNotFoundError, match=r"2026-03-16\.jsonl"):
        read_day(tmp_path, date(2026, 3, 16))


def test_generated_test_days_are_labelled_and_reproducible() -> None:
    generated = REPLAY_DIR / "pypi"
    days = available_days(generated)
    march = [d for d in days if d <= date(2026, 3, 31)]
    summer = [d for d in days if d >= date(2026, 6, 1)]
    assert march[0] == date(2026, 2, 25) and march[-1] == date(2026, 3, 31) and len(march) == 35
    assert summer[0] == date(2026, 6, 3) and summer[-1] == date(2026, 8, 22) and len(summer) == 81
    assert len(days) == 35 + 81
    fetched = read_day(generated, days[-1])
    assert {r["source"] for r in fetched.records} == {"replay-sample"}
    assert fetched.records == day_rows(days[-1], monthly_totals())  # the generator reproduces the bundle
    assert read_day(generated, march[-1]).records == day_rows(march[-1], monthly_totals())
    totals = monthly_totals()
    daily = sum(r["downloads"] for r in fetched.records if r["project"] == "duckdb")
    assert 0.5 < daily / (totals["duckdb"] / 31) < 1.5  # derived from the real monthly total
