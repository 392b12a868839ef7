"""Gold's event ledger: source events a gold run was not handed (Airflow can leave queued events unconsumed,
apache/airflow#56050) are read through the run's inlets after a watermark kept on ``tool_daily_metrics``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from madlake.names import Table, asset_uri

T0 = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """The fields of Airflow's ``AssetEventResult`` the ledger reads."""

    timestamp: datetime
    extra: dict[str, Any]
    source_run_id: str


@dataclass
class Accessor:
    """The query surface of Airflow's ``InletEventsAccessor`` (``after``, ``limit``, iteration), over a list."""

    events: list[Event]
    _after: str | None = None
    _limit: int | None = None
    calls: list[str] = field(default_factory=list)

    def after(self, after: str) -> Accessor:
        self._after = after
        self.calls.append(after)
        return self

    def limit(self, limit: int) -> Accessor:
        self._limit = limit
        return self

    def __iter__(self):  # type: ignore[no-untyped-def]
        cut = datetime.fromisoformat(self._after) if self._after else None
        chosen = [e for e in self.events if cut is None or e.timestamp > cut]
        return iter(chosen[: self._limit])


class Inlets(dict):
    def __getitem__(self, asset: Any) -> Accessor:
        return super().__getitem__(asset.uri)


def _pypi(minutes: int, day: str) -> Event:
    return Event(T0 + timedelta(minutes=minutes), {"table": Table.PYPI_DOWNLOADS, "days": [day]}, f"backfill__{day}")


@pytest.fixture
def gold_table(lakehouse: Path) -> Path:
    from madlake.lakehouse.tables import ensure_table
    from madlake.tables.gold import TOOL_DAILY_METRICS

    ensure_table(TOOL_DAILY_METRICS)
    return lakehouse


def test_the_watermark_is_kept_on_the_gold_table_and_never_moves_back(gold_table: Path) -> None:
    from madlake.orchestration.events import advance_events_through, events_through

    assert events_through() is None
    advance_events_through(T0)
    assert events_through() == T0
    advance_events_through(T0 - timedelta(hours=1))
    assert events_through() == T0
    advance_events_through(T0 + timedelta(minutes=3))
    assert events_through() == T0 + timedelta(minutes=3)


def test_events_after_the_watermark_that_the_run_was_not_handed_are_recomputed(gold_table: Path) -> None:
    from madlake.orchestration.events import advance_events_through, gold_periods, unconsumed_events

    old, near, lost = _pypi(-30, "2026-03-01"), _pypi(-5, "2026-03-02"), _pypi(2, "2026-03-03")
    handed = _pypi(3, "2026-03-04")
    pypi = Accessor([old, near, lost, handed])
    inlets = Inlets({asset_uri(Table.PYPI_DOWNLOADS): pypi, asset_uri(Table.DIM_TOOLS): Accessor([])})
    advance_events_through(T0)
    found = unconsumed_events({"inlet_events": inlets}, [Table.PYPI_DOWNLOADS, Table.DIM_TOOLS], [handed])
    # after the watermark less the overlap: the event 5 minutes before it (committed out of order) and the lost one;
    # never the event the run was handed (no double count), never the one long covered
    assert found == [near, lost]
    assert pypi.calls == [(T0 - timedelta(minutes=10)).isoformat()]
    periods = gold_periods({}, events=[handed, *found], trailing_days=0)
    assert [(s.isoformat(), e.isoformat()) for s, e in periods] == [("2026-03-02", "2026-03-04")]


def test_with_no_watermark_the_lookback_starts_at_the_oldest_triggering_event(gold_table: Path) -> None:
    from madlake.orchestration.events import unconsumed_events

    before, lost, handed = _pypi(-60, "2026-03-01"), _pypi(1, "2026-03-02"), _pypi(2, "2026-03-03")
    inlets = Inlets({asset_uri(Table.PYPI_DOWNLOADS): Accessor([before, lost, handed])})
    found = unconsumed_events({"inlet_events": inlets}, [Table.PYPI_DOWNLOADS], [handed])
    assert found == [lost]
    assert unconsumed_events({"inlet_events": inlets}, [Table.PYPI_DOWNLOADS], []) == []  # nothing to anchor on
