"""The github_history DAG through Airflow (``dag.test``) on the bundled genuine files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from madlake.names import Dag, Table, asset_uri

pytestmark = pytest.mark.integration


def _history(day: date | None = None) -> list[dict]:
    from madlake.lakehouse.tables import load_table

    rows = load_table(Table.GITHUB_REPO_HISTORY).scan().to_arrow().to_pylist()
    return [r for r in rows if day is None or r["day"] == day]


def _asset_extras() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == asset_uri(Table.GITHUB_REPO_HISTORY))
            .order_by(AssetEvent.id)
        )
        return [dict(e) for e in session.scalars(query)]


def test_a_scheduled_day_and_a_conf_range_load_and_announce_their_days(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag

    run_dag(Dag.GITHUB_HISTORY, date(2024, 1, 25))
    day_rows = _history(date(2024, 1, 25))
    assert day_rows and {r["source"] for r in day_rows} == {"github-ranking"}
    assert len(_history()) == len(day_rows)  # exactly its day
    extra = _asset_extras()[-1]
    assert extra == {"table": "github_repo_history", "days": ["2024-01-25", "2024-01-25"], "rows": len(day_rows)}

    run_dag(Dag.GITHUB_HISTORY, None, conf={"start": "2024-01-01", "end": "2024-01-31"})
    january = _history()
    assert {r["day"].month for r in january} == {1} and len(january) > len(day_rows)
    assert _asset_extras()[-1] == {
        "table": "github_repo_history",
        "days": ["2024-01-01", "2024-01-31"],
        "rows": len(january),
    }

    run_dag(Dag.GITHUB_HISTORY, date(2024, 1, 25))  # a rerun of one day leaves the others and duplicates nothing
    assert len(_history()) == len(january)
