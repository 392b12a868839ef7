"""The PyPI pipeline end to end on a SQLite catalog: replay -> validate -> write-audit-publish, pass and fail paths."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from madlake.lakehouse.writes import AuditFailedError
from madlake.names import Table

from bench.synth.pypi_days import day_rows, monthly_totals

D0 = date(2026, 3, 2)


@pytest.fixture
def replay_dir(lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "replay"
    (root / "pypi").mkdir(parents=True)
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(root))
    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "replay")
    return root / "pypi"


def write_day(
    folder: Path, day: date, rows: list[dict] | None = None, *, scale: float = 1.0, extra_lines: list[str] = ()
) -> list[dict]:
    rows = rows if rows is not None else day_rows(day, monthly_totals())
    if scale != 1.0:
        rows = [{**r, "downloads": max(1, int(r["downloads"] * scale))} for r in rows]
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    (folder / f"{day.isoformat()}.jsonl").write_text("\n".join(lines) + "\n")
    return rows


def table():
    from madlake.lakehouse.tables import load_table

    t = load_table(Table.PYPI_DOWNLOADS)
    t.refresh()
    return t


def day_content(day: date) -> list[tuple]:
    from pyiceberg.expressions import EqualTo

    rows = table().scan(row_filter=EqualTo("download_date", day.isoformat())).to_arrow().to_pylist()
    return sorted(
        (
            r["project"],
            r["version"],
            str(r["installer"]),
            str(r["python_version"]),
            str(r["system"]),
            str(r["country_code"]),
            str(r["ci"]),
            r["downloads"],
        )
        for r in rows
    )


def audit_rows(day: date) -> list[dict]:
    from madlake.lakehouse.tables import load_table

    log = load_table(Table.AUDIT_RESULTS).scan().to_arrow().to_pylist()
    return [r for r in log if r["partition_key"] == day.isoformat() and r["table_name"].endswith(Table.PYPI_DOWNLOADS)]


def test_a_replay_day_is_published_with_its_source_and_a_rerun_replaces_it(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    rows = write_day(replay_dir, D0)
    first = load_day(D0)
    content = day_content(D0)
    assert first["rows"] == len(rows) == len(content)
    assert first["downloads"] == sum(r["downloads"] for r in rows)
    assert first["absent_packages"] == 8  # tracked packages not in the sample, listed rather than silently missing
    again = load_day(D0)
    assert day_content(D0) == content  # same rows, no duplicates
    assert again["snapshot_id"] != first["snapshot_id"]
    sources = set(table().scan(selected_fields=("source",)).to_arrow().column("source").to_pylist())
    assert sources == {"replay-sample"}
    assert list(table().refs()) == ["main"]  # published branches are dropped
    passed = audit_rows(D0)
    assert passed and all(r["success"] and r["published"] for r in passed)
    absent = [r for r in passed if r["expectation"] == "tracked packages present or listed absent"]
    assert "hudi" in absent[0]["observed"] and "guidance" in absent[0]["observed"]


def test_a_new_input_for_a_day_replaces_the_old_one_exactly(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    write_day(replay_dir, D0)
    load_day(D0)
    write_day(replay_dir, D0 + timedelta(days=1))
    load_day(D0 + timedelta(days=1))
    fewer = write_day(replay_dir, D0, day_rows(D0, monthly_totals())[::2])
    load_day(D0)
    assert len(day_content(D0)) == len(fewer)
    assert len(day_content(D0 + timedelta(days=1))) > len(fewer)  # the other day is untouched


def test_a_missing_replay_day_is_a_clear_error_naming_the_file(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    with pytest.raises(FileNotFoundError, match=r"pypi/2026-03-02\.jsonl"):
        load_day(D0)


def test_a_failed_audit_leaves_main_untouched_and_keeps_the_branch(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    write_day(replay_dir, D0)
    load_day(D0)
    before = table().current_snapshot().snapshot_id
    good = day_content(D0)
    rows = day_rows(D0, monthly_totals())
    bad = [*rows, {**rows[0]}, {**rows[1], "downloads": 0}, {**rows[2], "country_code": "USA", "version": "9.9.9"}]
    write_day(replay_dir, D0, bad)
    with pytest.raises(AuditFailedError, match="unique grain") as err:
        load_day(D0)
    message = str(err.value)
    assert "downloads > 0" in message and "country_code is two letters or null" in message
    t = table()
    assert t.current_snapshot().snapshot_id == before
    assert day_content(D0) == good
    branch = err.value.branch
    assert branch == "audit_pypi_downloads_2026-03-02" and branch in t.refs()
    staged = t.scan(snapshot_id=t.refs()[branch].snapshot_id).to_arrow()
    assert staged.num_rows == len(bad)  # the rejected day stays inspectable on the branch
    failed = {r["expectation"] for r in audit_rows(D0) if not r["success"]}
    assert {"downloads > 0", "country_code is two letters or null"} <= failed
    assert any(e.startswith("unique grain") for e in failed)
    (dup,) = [r["observed"] for r in audit_rows(D0) if r["expectation"].startswith("unique grain") and not r["success"]]
    assert f"{rows[0]['project']} | {rows[0]['version']}" in dup  # the duplicated grain is quoted, readable
    assert not any(r["published"] for r in audit_rows(D0) if not r["success"])
    # fixing the input and rerunning publishes and replaces the kept branch
    write_day(replay_dir, D0)
    load_day(D0)
    assert day_content(D0) == good and list(table().refs()) == ["main"]


def test_day_total_outside_the_trailing_median_band_fails(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    days = [D0 + timedelta(days=i) for i in range(4)]
    for d in days:
        write_day(replay_dir, d)
        load_day(d)
    spike = days[-1] + timedelta(days=1)
    write_day(replay_dir, spike, scale=10)
    with pytest.raises(AuditFailedError, match="day total within band"):
        load_day(spike)
    assert day_content(spike) == []
    write_day(replay_dir, spike, scale=1.2)
    assert load_day(spike)["rows"] > 0


def test_a_partial_day_fails_the_coverage_check_and_lists_the_absent(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day

    rows = [r for r in day_rows(D0, monthly_totals()) if r["project"] in {"duckdb", "polars", "pyiceberg"}]
    write_day(replay_dir, D0, rows)
    with pytest.raises(AuditFailedError, match="tracked packages present or listed absent"):
        load_day(D0)
    cover = [r for r in audit_rows(D0) if r["expectation"] == "tracked packages present or listed absent"]
    assert "3 of 138 present" in cover[0]["observed"] and "apache-airflow" in cover[0]["observed"]


def test_malformed_rows_go_to_dead_letters_and_the_rest_is_published(replay_dir: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.pipelines.pypi import load_day

    rows = write_day(
        replay_dir,
        D0,
        extra_lines=[
            "{not json",
            json.dumps({"download_date": D0.isoformat(), "project": "duckdb", "version": "1.0", "downloads": "many"}),
            json.dumps({"download_date": "2026-03-01", "project": "duckdb", "version": "1.0", "downloads": 3}),
            json.dumps(
                {"download_date": D0.isoformat(), "project": "duckdb", "version": "1.0", "downloads": 3, "surprise": 1}
            ),
        ],
    )
    summary = load_day(D0)
    assert summary["rejected"] == 4 and summary["rows"] == len(rows)
    dead = [r for r in load_table(Table.REJECTED_RECORDS).scan().to_arrow().to_pylist() if r["source"] == "pypi"]
    reasons = " | ".join(sorted(r["reason"] for r in dead))
    assert len(dead) == 4
    assert "invalid JSON" in reasons and "downloads" in reasons and "not the run day" in reasons
    assert "surprise" in reasons
    load_day(D0)  # rerun: dead letters replaced, not duplicated
    dead = [r for r in load_table(Table.REJECTED_RECORDS).scan().to_arrow().to_pylist() if r["source"] == "pypi"]
    assert len(dead) == 4


def test_two_days_written_concurrently_both_land(replay_dir: Path) -> None:
    from madlake.pipelines.pypi import load_day
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()  # the catalog and tables exist before workers run (tools_catalog does this)
    days = [D0, D0 + timedelta(days=1)]
    expected = {d: len(write_day(replay_dir, d)) for d in days}
    errors: list[BaseException] = []

    def run(d: date) -> None:
        try:
            load_day(d)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in days]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert {d: len(day_content(d)) for d in days} == expected
    assert list(table().refs()) == ["main"]


def test_a_row_for_an_untracked_project_is_dead_lettered_and_the_day_still_publishes(replay_dir: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.pipelines.pypi import load_day

    rows = write_day(replay_dir, D0)
    stray = {**rows[0], "project": "definitely-not-a-tracked-tool", "version": "0.0.1"}
    write_day(replay_dir, D0, [*rows, stray])
    summary = load_day(D0)
    assert summary["rows"] == len(rows)
    assert summary["rejected"] == 1
    assert "definitely-not-a-tracked-tool" not in {r[0] for r in day_content(D0)}
    dead = load_table(Table.REJECTED_RECORDS).scan().to_arrow().to_pylist()
    assert [(d["record_id"], "not a tracked PyPI package" in d["reason"]) for d in dead] == [
        ("definitely-not-a-tracked-tool/0.0.1", True)
    ]
