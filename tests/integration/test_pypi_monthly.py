"""``pypi_monthly`` end to end: the DAG run by Airflow (``dag.test``) on the bundled replay, the CLI, dead letters,
and the live client against a local GitHub stand-in serving the genuine files (never the internet)."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from madlake.config import BUNDLED_REPLAY_DIR
from madlake.names import Dag, Pool, Table, asset_uri

from tests.integration.github_history_standin import GitHubHistoryStandIn

pytestmark = pytest.mark.integration

BUNDLED = BUNDLED_REPLAY_DIR / "pypi" / "top-pypi-packages-30-days"
COLUMNS = (
    "month, project, downloads, rank, list_size, list_min_downloads, below_list, window_days, installers, method, "
    "snapshot_date, source, snapshot_id"
)


def _rows(where: str = "true", params: list | None = None) -> list[dict]:
    from madlake.sql.engine import LocalEngine

    sql = f"select {COLUMNS} from pypi_downloads_monthly where {where} order by snapshot_date, project"
    return LocalEngine().query(sql, params).to_pylist()


def _count() -> int:
    from madlake.sql.engine import LocalEngine

    engine = LocalEngine()
    if Table.PYPI_DOWNLOADS_MONTHLY not in engine.available_tables():
        return 0
    return int(engine.query("select count(*) from pypi_downloads_monthly").column(0)[0].as_py())


def test_dag_is_a_monthly_backfillable_github_pool_asset_producer() -> None:
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from madlake.orchestration.runner import load_dag

    dag = load_dag(Dag.PYPI_MONTHLY)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.start_date == datetime(2018, 2, 1, tzinfo=UTC)
    scheduled = decode_timetable(encode_timetable(dag.timetable))
    interval = scheduled.infer_manual_data_interval(run_after=datetime(2026, 4, 15, tzinfo=UTC))
    assert (interval.start, interval.end) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    (task,) = dag.tasks
    assert task.pool == Pool.GITHUB
    assert [o.uri for o in task.outlets] == [asset_uri(Table.PYPI_DOWNLOADS_MONTHLY)]


def _asset_extras() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [
            dict(e.extra or {})
            for e in session.scalars(
                select(AssetEvent)
                .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                .where(AssetModel.uri == asset_uri(Table.PYPI_DOWNLOADS_MONTHLY))
                .order_by(AssetEvent.id)
            )
        ]


def test_the_april_2026_run_lands_duckdbs_genuine_march_figure_and_reruns_identically(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag

    run_dag(Dag.PYPI_MONTHLY, date(2026, 4, 1))  # data interval: April 2026 -> the 2026-04-01 snapshot
    (duckdb,) = _rows("project = ?", ["duckdb"])
    assert duckdb["downloads"] == 34_802_375
    assert (duckdb["month"], duckdb["method"], duckdb["window_days"]) == (date(2026, 3, 1), "calendar-month", 31)
    assert (duckdb["snapshot_date"], duckdb["snapshot_id"], duckdb["source"]) == (
        date(2026, 4, 1),
        "7ec9534546",
        "replay",
    )
    first = _rows()
    assert len(first) == 138 and {r["snapshot_date"] for r in first} == {date(2026, 4, 1)}
    assert all(r["downloads"] is None for r in first if r["below_list"])
    extra = _asset_extras()[-1]
    assert extra == {
        "table": Table.PYPI_DOWNLOADS_MONTHLY,
        "months": ["2026-03-01"],
        "snapshot_dates": ["2026-04-01"],
        "rows": 138,
    }
    run_dag(Dag.PYPI_MONTHLY, date(2026, 4, 1))
    assert _rows() == first  # same rows, no duplicates


def test_a_month_without_a_snapshot_succeeds_and_lands_nothing(
    lakehouse: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from madlake.pipelines.pypi_monthly import load_range
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    with caplog.at_level("INFO"):
        summary = load_range(date(2020, 2, 1), date(2020, 2, 29))  # 2020-01-17, then 2020-03-01
    assert summary["snapshots"] == 0 and summary["rows"] == 0
    assert "no top-pypi-packages snapshot dated 2020-02-01..2020-02-29" in caplog.text
    assert _count() == 0


def test_a_range_run_replaces_exactly_its_snapshot_dates(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag
    from madlake.pipelines.pypi_monthly import load_range

    run_dag(Dag.PYPI_MONTHLY, None, conf={"start": "2018-02-01", "end": "2018-03-31"})
    dates = sorted({r["snapshot_date"] for r in _rows()})
    # Weekly in 2018; the five commits of 2018-02-25 are one snapshot date (the latest last_update wins).
    assert [d.isoformat() for d in dates] == [
        "2018-02-07",
        "2018-02-10",
        "2018-02-12",
        "2018-02-19",
        "2018-02-25",
        "2018-03-04",
        "2018-03-11",
        "2018-03-18",
        "2018-03-25",
    ]
    assert {r["snapshot_id"] for r in _rows("snapshot_date = ?", [date(2018, 2, 25)])} == {"32c4f82423"}
    before = _rows()
    summary = load_range(date(2018, 3, 1), date(2018, 3, 31))  # replaces March only
    assert summary["snapshots"] == 4 and summary["superseded"] == 0
    assert _rows() == before and _count() == 9 * 138


def _replay_copy(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "replay" / "pypi" / "top-pypi-packages-30-days"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(BUNDLED / name, folder / name)
    return folder


def test_bad_files_are_dead_lettered_and_good_ones_still_load(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from madlake.cli import main
    from madlake.sql.engine import LocalEngine

    folder = _replay_copy(tmp_path, ["2026-03-01_8e6e585549.json.gz", "2026-04-01_7ec9534546.json.gz"])
    (folder / "2026-04-15_abcdef1234.json.gz").write_bytes(gzip.compress(b'{"data": {"rows": []}}'))
    (folder / "top-pypi-packages-30-days.json").write_bytes(b"[]")
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "replay"))
    for _ in range(2):  # a rerun replaces the dead letters instead of adding to them
        assert main(["pypi", "monthly", "--start", "2026-03-01", "--end", "2026-04-30"]) == 0
        out = capsys.readouterr().out
        assert "2 snapshots from 4 files" in out and "2 rejected" in out
    dead = (
        LocalEngine()
        .query("select record_id, reason from rejected_records where source = 'pypi_monthly' order by 1")
        .to_pylist()
    )
    assert dead == [
        {
            "record_id": "2026-04-15_abcdef1234.json.gz",
            "reason": "unknown shape of top-pypi-packages file (top level: ['data'])",
        },
        {
            "record_id": "top-pypi-packages-30-days.json",
            "reason": "undatable file name (expected <YYYY-MM-DD>_<sha>.json.gz)",
        },
    ]
    assert [r["downloads"] for r in _rows("project = 'duckdb'")] == [26_511_678, 34_802_375]

    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "nowhere"))
    assert main(["pypi", "monthly", "--start", "2026-03-01", "--end", "2026-04-30"]) == 1
    assert "nowhere/pypi/top-pypi-packages-30-days" in capsys.readouterr().err


def test_live_client_pages_the_commits_api_reads_raw_files_and_honours_rate_limits(tmp_path: Path) -> None:
    from madlake.sources.pypi_monthly.fetch import LiveSource, MonthlySettings
    from madlake.sources.pypi_monthly.parse import parse_snapshot

    waits: list[float] = []
    with GitHubHistoryStandIn(BUNDLED, max_per_page=4, rate_limit_commits=1, throttle_raw=1) as server:
        settings = MonthlySettings(
            api_url=f"{server.url}/api", raw_url=f"{server.url}/raw", pages_url=f"{server.url}/pages/top-pypi-packages"
        )
        with LiveSource(settings, "test-token", sleep=waits.append, today=date(2026, 4, 2)) as source:
            files = source.files(date(2025, 1, 1), date(2026, 4, 30))
            contents = {f.name: f.read() for f in files}
        expected = sorted(p.name.replace(".gz", "") for p in BUNDLED.glob("202[56]-*.json.gz"))
        assert [f.name for f in files] == expected  # oldest first, named like the recorded history
        commit_calls = [r for r in server.requests if r["path"].endswith("/commits")]
        assert len(commit_calls) == 1 + -(-len(expected) // 4)  # one rate-limited answer, then every page
        assert commit_calls[1]["query"]["since"] == "2025-01-01T00:00:00Z"
        assert commit_calls[1]["query"]["until"] == "2026-05-01T00:00:00Z"
        assert len(waits) == 2 and 0 < waits[0] <= 3 and waits[1] == 1.0  # reset, then Retry-After
        # The token goes to the API only; the newest file came from the published JSON, not the raw host.
        assert {r["auth"] for r in commit_calls} == {"Bearer test-token"}
        assert {r["auth"] for r in server.requests if not r["path"].startswith("/api")} == {None}
        raw_shas = [r["path"].split("/")[4][:10] for r in server.requests if r["path"].startswith("/raw")]
        assert "7ec9534546" not in raw_shas and any(r["path"].startswith("/pages") for r in server.requests)
    tracked = ["duckdb", "polars"]
    for name, doc in contents.items():
        replay = parse_snapshot((BUNDLED / f"{name}.gz").read_bytes(), f"{name}.gz", tracked, loaded_at=datetime.min)
        live = parse_snapshot(doc, name, tracked, loaded_at=datetime.min)
        assert live.rows == replay.rows


def test_live_mode_end_to_end_through_the_pipeline(lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.pipelines.pypi_monthly import load_range
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    with GitHubHistoryStandIn(BUNDLED) as server:
        monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
        monkeypatch.setenv("MADLAKE_PYPI_MONTHLY_API_URL", f"{server.url}/api")
        monkeypatch.setenv("MADLAKE_PYPI_MONTHLY_RAW_URL", f"{server.url}/raw")
        monkeypatch.setenv("MADLAKE_PYPI_MONTHLY_PAGES_URL", f"{server.url}/pages/top-pypi-packages")
        summary = load_range(date(2026, 3, 1), date(2026, 4, 30))
        assert {r["auth"] for r in server.requests if r["path"].startswith("/api")} == {"Bearer test-github-token"}
    assert (summary["snapshots"], summary["rows"], summary["source"]) == (2, 276, "top-pypi-packages")
    duckdb = _rows("project = 'duckdb'")
    assert [(r["month"], r["downloads"], r["source"]) for r in duckdb] == [
        (date(2026, 2, 1), 26_511_678, "top-pypi-packages"),
        (date(2026, 3, 1), 34_802_375, "top-pypi-packages"),
    ]
