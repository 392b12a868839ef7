"""The top-pypi-packages parser on genuine files: every shape, censoring, method breaks, months, trimming, bad input.

Fixtures: three genuine snapshots (byte for byte, gzip) in ``tests/fixtures/pypi_monthly/``, one per shape; the bundled
trimmed replay of the same snapshots in ``include/madlake/replay/``.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from madlake.config import BUNDLED_REPLAY_DIR
from madlake.sources.pypi_monthly.methods import NoMethodError, load_methods, parse_methods
from madlake.sources.pypi_monthly.parse import (
    SnapshotRejectedError,
    month_described,
    normalize,
    parse_snapshot,
    snapshot_name,
)
from madlake.sources.pypi_monthly.trim import trim_document

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pypi_monthly"
BUNDLED = BUNDLED_REPLAY_DIR / "pypi" / "top-pypi-packages-30-days"
LIST_FILE = "2018-02-07_48002cebbb.json.gz"
BIGQUERY_FILE = "2019-11-22_2fc66537f7.json.gz"
CLICKHOUSE_FILE = "2025-07-05_0a17c3acf6.json.gz"
LOADED = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    from madlake.catalog import load_catalog

    return sorted(load_catalog().pypi_projects())


def _doc(name: str, folder: Path = FIXTURES) -> object:
    return json.loads(gzip.decompress((folder / name).read_bytes()))


def _by_project(rows: list[dict]) -> dict[str, dict]:
    return {r["project"]: r for r in rows}


@pytest.mark.parametrize(
    ("name", "shape", "method", "installers", "window", "month", "size", "minimum"),
    [
        (LIST_FILE, "list", "pip-30d", "pip", 30, date(2018, 1, 1), 5000, 4776),
        (BIGQUERY_FILE, "bigquery", "pip-30d", "pip", 30, date(2019, 11, 1), 4000, None),
        (CLICKHOUSE_FILE, "clickhouse", "calendar-month", "all", 30, date(2025, 6, 1), 15000, 30848),
    ],
)
def test_every_shape_is_parsed_from_the_genuine_file(
    tracked, name, shape, method, installers, window, month, size, minimum
) -> None:
    raw = (FIXTURES / name).read_bytes()
    parsed = parse_snapshot(raw, name, tracked, loaded_at=LOADED)
    meta = parsed.meta
    assert (meta.shape, meta.method.method, meta.method.installers) == (shape, method, installers)
    assert (meta.window_days, meta.month, meta.list_size) == (window, month, size)
    doc = json.loads(gzip.decompress(raw))
    rows = doc if isinstance(doc, list) else doc["rows"]
    assert meta.list_size == len(rows)
    assert meta.list_min_downloads == min(r["download_count"] for r in rows)
    if minimum is not None:
        assert meta.list_min_downloads == minimum
    # One row per tracked project; the ones in the list carry the list's own figure and position.
    assert [r["project"] for r in parsed.rows] == sorted({normalize(p) for p in tracked})
    position = {normalize(r["project"]): (i, r["download_count"]) for i, r in reversed(list(enumerate(rows, 1)))}
    for row in parsed.rows:
        if not row["below_list"]:
            assert (row["rank"], row["downloads"]) == position[row["project"]]
        assert row["snapshot_date"] == snapshot_name(name)[0] and row["snapshot_id"] == name[11:21]


def test_genuine_figures(tracked) -> None:
    rows = _by_project(parse_snapshot(_doc(CLICKHOUSE_FILE), CLICKHOUSE_FILE, tracked).rows)
    bundled = _by_project(
        parse_snapshot(_doc("2026-04-01_7ec9534546.json.gz", BUNDLED), "2026-04-01_7ec9534546.json.gz", tracked).rows
    )
    assert bundled["duckdb"]["downloads"] == 34_802_375 and bundled["duckdb"]["month"] == date(2026, 3, 1)
    assert bundled["duckdb"]["window_days"] == 31 and bundled["duckdb"]["list_min_downloads"] == 57_487
    assert (rows["pandas"]["rank"], rows["pandas"]["downloads"]) == (27, 342_209_626)  # June 2025, all installers


def test_absent_projects_are_censored_never_zero(tracked) -> None:
    parsed = parse_snapshot(_doc(LIST_FILE), LIST_FILE, tracked)
    below = [r for r in parsed.rows if r["below_list"]]
    assert len(below) == 97  # 2018: most tracked tools were not in the top 5,000 yet
    assert all(r["downloads"] is None and r["rank"] is None for r in below)
    assert all(r["list_min_downloads"] == 4776 for r in below)  # only known to be under this
    assert not any(r["downloads"] == 0 for r in parsed.rows)
    assert _by_project(parsed.rows)["duckdb"]["below_list"] is True


@pytest.mark.parametrize(
    ("day", "sha", "method", "installers", "window"),
    [
        (date(2018, 2, 7), "48002cebbb", "pip-30d", "pip", 30),
        (date(2024, 11, 1), "9a7168eafc", "pip-30d", "pip", 30),
        (date(2024, 11, 10), "0000000000", "all-30d", "all", 30),
        (date(2024, 12, 1), "5f5b482c54", "all-30d", "all", 30),
        (date(2024, 12, 1), "bc88d1130f", "all-shrinking", "all", 29),
        (date(2025, 2, 1), "3639ca8cae", "all-shrinking", "all", 28),
        (date(2025, 3, 1), "8a4cc57ad9", "all-shrinking", "all", 27),
        (date(2025, 4, 1), "169a5a93c6", "all-shrinking", "all", 24),
        (date(2025, 5, 1), "48c66f8d1d", "all-shrinking", "all", 22),
        (date(2025, 6, 13), "75cc141999", "all-shrinking", "all", 22),
        (date(2025, 7, 4), "0000000000", "all-shrinking", "all", 22),
        (date(2025, 7, 5), "0a17c3acf6", "calendar-month", "all", None),
        (date(2026, 4, 1), "7ec9534546", "calendar-month", "all", None),
    ],
)
def test_method_table_at_the_break_dates(day, sha, method, installers, window) -> None:
    m = load_methods().method_for(day, sha)
    assert (m.method, m.installers, m.window_days) == (method, installers, window)


def test_method_table_refuses_dates_before_the_first_snapshot_and_bad_rules() -> None:
    with pytest.raises(NoMethodError, match="2018-02-06"):
        load_methods().method_for(date(2018, 2, 6), "aaaaaaaaaa")
    assert load_methods().version == "pypi-monthly-v1"
    with pytest.raises(ValueError, match="rule 1: method 'pip-7d'"):
        parse_methods(
            {"method_version": "x", "rules": [{"from": "2018-01-01", "method": "pip-7d", "installers": "pip"}]}
        )


@pytest.mark.parametrize(
    ("method", "day", "computed", "month", "window"),
    [
        ("pip-30d", date(2018, 2, 10), date(2018, 2, 10), date(2018, 1, 1), 30),  # 01-11..02-09: 21 days of January
        ("pip-30d", date(2018, 2, 25), date(2018, 2, 25), date(2018, 2, 1), 30),  # 01-26..02-24: 24 days of February
        ("pip-30d", date(2024, 11, 1), date(2024, 11, 1), date(2024, 10, 1), 30),
        ("pip-30d", date(2021, 5, 2), date(2021, 5, 1), date(2021, 4, 1), 30),  # last_update's day anchors the window
        ("pip-30d", date(2018, 3, 16), date(2018, 3, 16), date(2018, 3, 1), 30),  # 02-14..03-15: 15/15, later wins
        ("calendar-month", date(2026, 4, 1), date(2026, 4, 1), date(2026, 3, 1), 31),
        ("calendar-month", date(2025, 7, 5), date(2025, 7, 5), date(2025, 6, 1), 30),
        ("calendar-month", date(2026, 3, 1), date(2026, 3, 1), date(2026, 2, 1), 28),
    ],
)
def test_month_rule(method, day, computed, month, window) -> None:
    from madlake.sources.pypi_monthly.methods import Method

    m = Method(method, "all", None if method == "calendar-month" else 30)
    assert month_described(m, day, computed) == (month, window)


@pytest.mark.parametrize("name", [LIST_FILE, BIGQUERY_FILE, CLICKHOUSE_FILE])
def test_a_trimmed_copy_gives_identical_rows(tracked, name) -> None:
    full = parse_snapshot(_doc(name), name, tracked, loaded_at=LOADED)
    trimmed = trim_document(_doc(name), tracked, name)
    assert parse_snapshot(json.loads(json.dumps(trimmed)), name, tracked, loaded_at=LOADED).rows == full.rows
    # ... and so does the bundled copy made by scripts/trim_pypi_history.py.
    bundled = parse_snapshot((BUNDLED / name).read_bytes(), name, tracked, loaded_at=LOADED)
    assert bundled.rows == full.rows and bundled.meta == full.meta
    if name != LIST_FILE:
        assert len(trimmed["rows"]) < len(_doc(name)["rows"]) // 10
        assert trimmed["madlake_trim"]["original_rows"] == full.meta.list_size


def test_a_trimmed_copy_does_not_claim_projects_it_did_not_keep(tracked) -> None:
    trimmed = trim_document(_doc(CLICKHOUSE_FILE), [p for p in tracked if p != "duckdb"], CLICKHOUSE_FILE)
    parsed = parse_snapshot(trimmed, CLICKHOUSE_FILE, tracked)
    assert parsed.unknown == ["duckdb"]
    assert "duckdb" not in _by_project(parsed.rows)  # unknown, not a false below_list


@pytest.mark.parametrize(
    ("name", "doc", "reason"),
    [
        ("2019-11-22_2fc66537f7.json.gz", {"data": []}, "unknown shape"),
        ("2019-11-22_2fc66537f7.json.gz", "just text", "unknown shape"),
        ("top-pypi-packages-30-days.json", [{"project": "pip", "download_count": 5}], "undatable file name"),
        ("2019-13-40_2fc66537f7.json", [{"project": "pip", "download_count": 5}], "undatable file name"),
        (
            "2019-11-22_2fc66537f7.json.gz",
            {"query": {}, "rows": [{"project": "pip", "download_count": 5}]},
            "last_update",
        ),
        ("2019-11-22_2fc66537f7.json", [{"project": "pip", "download_count": 0}], "download_count 0"),
        ("2019-11-22_2fc66537f7.json", [{"project": "pip", "download_count": "many"}], "download_count 'many'"),
        ("2019-11-22_2fc66537f7.json", [{"download_count": 5}], "missing field project"),
        ("2019-11-22_2fc66537f7.json", [], "no rows"),
        ("2018-01-01_2fc66537f7.json", [{"project": "pip", "download_count": 5}], "no counting method"),
        (
            "2026-01-01_2fc66537f7.json",
            {"last_update": "2026-01-01 06:00:00", "query": {}, "rows": [{"project": "pip", "download_count": 5}]},
            "bigquery-shaped file is not expected for method calendar-month",
        ),
    ],
)
def test_bad_files_are_rejected_with_a_reason_naming_the_file(tracked, name, doc, reason) -> None:
    with pytest.raises(SnapshotRejectedError, match=reason) as err:
        parse_snapshot(doc, name, tracked)
    assert str(err.value).startswith(name)


def test_undecodable_bytes_are_rejected(tracked) -> None:
    with pytest.raises(SnapshotRejectedError, match="not a JSON document"):
        parse_snapshot(gzip.compress(b"{not json"), BIGQUERY_FILE, tracked)
    with pytest.raises(SnapshotRejectedError, match="not a JSON document"):
        parse_snapshot(b"\x1f\x8b\x08truncated", BIGQUERY_FILE, tracked)


def test_the_bundled_replay_is_the_whole_history_within_budget() -> None:
    files = sorted(BUNDLED.glob("*.json.gz"))
    assert len(files) == 163 and files[0].name == LIST_FILE and files[-1].name == "2026-04-01_7ec9534546.json.gz"
    assert sum(f.stat().st_size for f in files) <= 3 * 1024 * 1024  # the pypi share of the bundled-data budget


def test_the_trim_script_reproduces_the_bundled_copies(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "trim_pypi_history.py"
    out = tmp_path / "trimmed"
    done = subprocess.run(
        [sys.executable, str(script), str(FIXTURES), str(out)], capture_output=True, text=True, check=True
    )
    assert "3 files" in done.stdout
    for name in (LIST_FILE, BIGQUERY_FILE, CLICKHOUSE_FILE):
        assert (out / name).read_bytes() == (BUNDLED / name).read_bytes()  # deterministic (gzip mtime 0)
