"""The run request: what one run of a pipeline covers, built once at the seam and passed down explicitly.

A DAG task builds it from its Airflow context (:meth:`RunRequest.from_airflow`, called only in
:mod:`madlake.orchestration.tasks`); ``madlake`` commands build the same object (:meth:`RunRequest.for_cli`). Every
pipeline takes it and derives from it the period it loads (:attr:`RunRequest.day`, :attr:`RunRequest.days`), its
params and the commit context of its writes (:meth:`RunRequest.commit`). Nothing below ``orchestration/`` reads the
Airflow context or imports Airflow.

**The logical-date rule** (one rule for every date-driven DAG, documented in ``docs/operations.md``):

1. the ``date`` param (the trigger form's field, or conf ``{"date": "YYYY-MM-DD"}``) wins;
2. else the run's logical date: a manual trigger for 2026-03-10 covers 2026-03-10, and scheduled runs and backfills
   of the daily data-interval DAGs have the first instant of the day they cover as their logical date;
3. else the start of the data interval;
4. else (manual runs without a logical date, asset-triggered runs) yesterday (UTC), the last complete day.

DAGs that take a range also accept ``start``/``end`` params (inclusive), see :attr:`RunRequest.days`.

Cheap to import (stdlib only): DAG files and the CLI import it at parse/start-up time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from madlake.orchestration.events import triggering_events
from madlake.orchestration.failures import RefusedDateError

if TYPE_CHECKING:
    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

#: How the run was started: Airflow's run types, plus ``cli`` for a ``madlake`` command or a plain function call.
RunType = Literal["scheduled", "manual", "backfill", "asset_triggered", "cli", "unknown"]


def _as_date(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


@dataclass(frozen=True)
class RunRequest:
    """One run of a pipeline: who runs it (DAG id, run id, run type), its params, and the period it covers.

    Attributes:
        dag_id: the DAG (``cli`` or a command name outside Airflow).
        run_id: the Airflow run id, or a unique ``<dag_id>__<UTC stamp>__<pid>`` outside Airflow.
        run_type: see :data:`RunType`.
        params: the run's params with the non-empty values of its conf on top (conf wins, as in Airflow).
        logical_date: the run's logical date (``None``: manual or asset-triggered runs without one).
        data_interval_start: the start of the run's data interval, when it has one.
        data_interval_end: its end (exclusive), when it has one.
        triggering_events: the asset events that triggered the run (de-duplicated; empty for other runs).
    """

    dag_id: str
    run_id: str
    run_type: RunType = "cli"
    params: Mapping[str, Any] = field(default_factory=dict)
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    triggering_events: tuple[Any, ...] = ()

    # ----------------------------------------------------------------------------------------------------------------
    # Construction: once per run
    # ----------------------------------------------------------------------------------------------------------------

    @classmethod
    def from_airflow(cls, context: Mapping[str, Any]) -> RunRequest:
        """The request of the running task, from its Airflow context (a mapping: no Airflow import needed)."""
        dag_run = context.get("dag_run")
        conf = getattr(dag_run, "conf", None) or {}
        params = {**dict(context.get("params") or {}), **{k: v for k, v in dict(conf).items() if v}}
        kind = getattr(dag_run, "run_type", None)
        run_type = str(getattr(kind, "value", kind) or "unknown")
        dag = context.get("dag")
        dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None) or "unknown"
        return cls(
            dag_id=str(dag_id),
            run_id=str(context.get("run_id") or "manual"),
            run_type=run_type if run_type in _RUN_TYPES else "unknown",  # type: ignore[arg-type]
            params=params,
            logical_date=context.get("logical_date"),
            data_interval_start=context.get("data_interval_start"),
            data_interval_end=context.get("data_interval_end"),
            triggering_events=tuple(_triggering_events(context)),
        )

    @classmethod
    def for_cli(
        cls,
        dag_id: str = "cli",
        *,
        day: date | None = None,
        start: date | None = None,
        end: date | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> RunRequest:
        """A request outside Airflow (a ``madlake`` command, a test, a benchmark), with a unique run id.

        ``day`` and ``start``/``end`` become the ``date``/``start``/``end`` params, so the same rule reads them.
        """
        merged: dict[str, Any] = dict(params or {})
        for key, value in (("date", day), ("start", start), ("end", end)):
            if value is not None:
                merged[key] = value.isoformat()
        return cls(dag_id=dag_id, run_id=f"{dag_id}__{_stamp()}__{os.getpid()}", run_type="cli", params=merged)

    # ----------------------------------------------------------------------------------------------------------------
    # What the run covers
    # ----------------------------------------------------------------------------------------------------------------

    def param(self, key: str, default: Any = None) -> Any:
        """The param ``key`` (``default`` when missing or empty)."""
        value = self.params.get(key)
        return default if value is None or value == "" else value

    def date_param(self, key: str) -> date | None:
        """The param ``key`` as a day (``None`` when empty).

        Raises:
            RefusedDateError: the value is not a ``YYYY-MM-DD`` day.
        """
        value = self.params.get(key)
        if not value:
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise RefusedDateError(f"param {key}={value!r} is not a date (YYYY-MM-DD)") from None

    @property
    def day(self) -> date:
        """The day the run covers, by the logical-date rule of the module docstring."""
        explicit = self.date_param("date")
        if explicit:
            return explicit
        if self.logical_date is not None:
            return _as_date(self.logical_date)
        if self.data_interval_start is not None:
            return _as_date(self.data_interval_start)
        return (datetime.now(UTC) - timedelta(days=1)).date()

    @property
    def days(self) -> list[date]:
        """The days the run covers: ``start``..``end`` (inclusive; ``end`` defaults to ``date``, then ``start``) when
        ``start`` is given, else ``[day]``.

        Raises:
            RefusedDateError: ``end`` before ``start``, or a param that is not a date.
        """
        start = self.date_param("start")
        if start is None:
            return [self.day]
        end = self.date_param("end") or self.date_param("date") or start
        if end < start:
            raise RefusedDateError(f"end {end} is before start {start}")
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    @property
    def has_explicit_days(self) -> bool:
        """Whether the params name the day(s) (``date``, ``start`` or ``end``) rather than the schedule or events."""
        return any(self.params.get(k) for k in ("date", "start", "end"))

    # ----------------------------------------------------------------------------------------------------------------
    # What the run writes
    # ----------------------------------------------------------------------------------------------------------------

    def commit(self, source: str) -> CommitContext:
        """The commit context of this run's writes for ``source`` (DAG id and run id on every snapshot)."""
        from madlake.lakehouse.writes import CommitContext

        return CommitContext(dag_id=self.dag_id, run_id=self.run_id, source=source)


_RUN_TYPES = frozenset(("scheduled", "manual", "backfill", "asset_triggered", "cli", "unknown"))


def _triggering_events(context: Mapping[str, Any]) -> list[Any]:
    """Every event that triggered the run (:func:`events.triggering_events`); none when the accessor is unreadable."""
    try:
        return triggering_events(context)
    except Exception:  # an unreadable accessor names no event: the run falls back to its day
        log.warning("Could not read the triggering asset events; the run covers its day instead", exc_info=True)
        return []
