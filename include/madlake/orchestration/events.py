"""Asset events that say what changed, and the periods a downstream run must recompute from them.

**Producer side.** Every source task ends with :func:`announce`: the outlet event of its table carries
``extra = {"table": ..., "days": [...] | "months": [...], "rows": n}`` (see :func:`changes_extra`), readable in the UI
(*Assets*) and by the consumers.

**Consumer side.** ``gold_metrics`` is triggered by one or several such events (several upstream runs may coalesce
into one gold run: Airflow hands the run every event queued since the previous one, in
``context["triggering_asset_events"]``). :func:`affected_periods` turns them into the union of the affected days
(a month counts as all its days), merged into contiguous periods; :func:`with_trailing` adds the days after each
period whose trailing windows read it (only days gold already holds: days not computed yet need no
recomputation). Nothing is lost when events coalesce: the union covers every event.

Events without periods (``dim_tools``: the catalog changed; an event from an older producer) name no days: the gold
run then recomputes the newest day gold holds (the dashboard's "now"), or skips when gold holds nothing yet; history
after a catalog change is recomputed on purpose with ``start``/``end``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

Period = tuple[date, date]

#: Days after a changed day whose gold rows read it through a trailing window (the 28-day windows).
GOLD_TRAILING_DAYS = 27

#: Table property of ``tool_daily_metrics``: the newest source event an event-driven gold run covered.
PROP_EVENTS_THROUGH = "madlake.gold.events-through"
#: Events up to this much older than the watermark are read again (commits can land out of timestamp order).
EVENTS_OVERLAP = timedelta(minutes=10)


def _iso(d: date | str) -> str:
    return d if isinstance(d, str) else d.isoformat()


def changes_extra(
    table: str,
    *,
    days: Iterable[date | str] | None = None,
    months: Iterable[date | str] | None = None,
    rows: int | None = None,
    **more: Any,
) -> dict[str, Any]:
    """The ``extra`` of an asset event announcing a change of ``table`` (JSON-safe).

    ``days`` are ISO dates; ``months`` are ``YYYY-MM`` (a date is reduced to its month). ``rows``: rows written.
    """
    extra: dict[str, Any] = {"table": table}
    if days is not None:
        extra["days"] = sorted({_iso(d)[:10] for d in days})
    if months is not None:
        extra["months"] = sorted({_iso(m)[:7] for m in months})
    if rows is not None:
        extra["rows"] = int(rows)
    extra.update({k: v for k, v in more.items() if v is not None})
    return extra


def announce(
    table: str,
    *,
    days: Iterable[date | str] | None = None,
    months: Iterable[date | str] | None = None,
    rows: int | None = None,
    context: Mapping[str, Any] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """Attach :func:`changes_extra` to the running task's outlet event for ``table``; returns the extra.

    Outside a task (a plain function call) it only builds and logs the extra.
    """
    from madlake.names import asset_uri

    extra = changes_extra(table, days=days, months=months, rows=rows, **more)
    if context is None:
        try:
            from airflow.sdk import get_current_context

            context = get_current_context()
        except Exception:  # not inside a task
            context = {}
    outlet_events = context.get("outlet_events") if context else None
    if outlet_events is not None:
        from airflow.sdk import Asset

        outlet_events[Asset(asset_uri(table))].extra = extra
    log.info("Announcing %s changed: %s", table, _describe(extra))
    return extra


def _describe(extra: Mapping[str, Any]) -> str:
    parts = []
    for key in ("days", "months"):
        values = extra.get(key) or []
        if values:
            parts.append(f"{key} {values[0]}" + (f"..{values[-1]} ({len(values)})" if len(values) > 1 else ""))
    if extra.get("rows") is not None:
        parts.append(f"{extra['rows']} rows")
    return ", ".join(parts) or "no period"


def _month_period(value: str) -> Period:
    first = date.fromisoformat(value[:7] + "-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def periods_of(extra: Mapping[str, Any] | None) -> list[Period]:
    """The periods one event's extra names: each day, each month (as its days), or a ``start``/``end`` range.

    Unparseable values are logged and ignored (an event is information, not a command).
    """
    if not extra:
        return []
    out: list[Period] = []
    for value in extra.get("days") or []:
        try:
            d = date.fromisoformat(str(value)[:10])
        except ValueError:
            log.warning("ignoring day %r in an asset event of %s", value, extra.get("table"))
            continue
        out.append((d, d))
    for value in extra.get("months") or []:
        try:
            out.append(_month_period(str(value)))
        except ValueError:
            log.warning("ignoring month %r in an asset event of %s", value, extra.get("table"))
    if extra.get("start"):
        try:
            s = date.fromisoformat(str(extra["start"])[:10])
            e = date.fromisoformat(str(extra.get("end") or extra["start"])[:10])
            if s <= e:
                out.append((s, e))
        except ValueError:
            log.warning("ignoring range %r..%r in an asset event", extra.get("start"), extra.get("end"))
    return out


def merge_periods(periods: Iterable[Period]) -> list[Period]:
    """Sort and merge overlapping or adjacent periods."""
    merged: list[Period] = []
    for s, e in sorted(periods):
        if merged and s <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _extra_of(event: Any) -> Mapping[str, Any] | None:
    if isinstance(event, Mapping):
        return event.get("extra", event)
    return getattr(event, "extra", None)


def affected_periods(events: Iterable[Any]) -> list[Period]:
    """The union of the periods named by ``events`` (event objects with ``.extra``, or extra dicts), merged."""
    return merge_periods(p for ev in events for p in periods_of(_extra_of(ev)))


def affected_range(events: Iterable[Any]) -> Period | None:
    """The hull ``(first day, last day)`` of :func:`affected_periods`, or ``None`` when no event names a period."""
    periods = affected_periods(events)
    return (periods[0][0], periods[-1][1]) if periods else None


def with_trailing(periods: Sequence[Period], trailing_days: int, existing: Iterable[date] = ()) -> list[Period]:
    """Add to ``periods`` the days gold already holds whose trailing window (``trailing_days`` back) reads them.

    Only existing days are added: a day gold has not computed yet needs no recomputation, so a backfill of March
    into a lakehouse that holds August recomputes March's days, not the five months between.
    """
    held = sorted(set(existing))
    extra: list[Period] = []
    for _s, e in periods:
        horizon = e + timedelta(days=trailing_days)
        extra += [(d, d) for d in held if e < d <= horizon]
    return merge_periods([*periods, *extra])


def triggering_events(context: Mapping[str, Any]) -> list[Any]:
    """Every event that triggered this run (all assets; coalesced runs included), de-duplicated."""
    accessor = context.get("triggering_asset_events") or {}
    seen: set[tuple[Any, ...]] = set()
    events = []
    for asset in list(accessor):
        for ev in accessor[asset]:
            key = _event_key(ev)
            if key in seen:
                continue
            seen.add(key)
            events.append(ev)
    return events


def gold_days() -> set[date]:
    """The days ``tool_daily_metrics`` holds (empty: no gold yet). Reads only the ``metric_date`` column."""
    table = _gold_table()
    if table is None or table.current_snapshot() is None:
        return set()
    import pyarrow.compute as pc

    col = table.scan(selected_fields=("metric_date",)).to_arrow().column("metric_date")
    return {d for d in pc.unique(col).to_pylist() if d is not None}


def _timestamp(event: Any) -> datetime | None:
    ts = getattr(event, "timestamp", None)
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if isinstance(ts, datetime) and ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts if isinstance(ts, datetime) else None


def _event_key(event: Any) -> tuple[Any, ...]:
    return (getattr(event, "source_run_id", None), _timestamp(event), str(_extra_of(event)))


def events_through() -> datetime | None:
    """The newest source event a finished event-driven gold run covered (a property of ``tool_daily_metrics``)."""
    table = _gold_table()
    value = table.properties.get(PROP_EVENTS_THROUGH) if table is not None else None
    return datetime.fromisoformat(value) if value else None


def advance_events_through(newest: datetime) -> None:
    """Record that gold covered every source event up to ``newest`` (never moves back; retried on a commit race)."""
    from madlake.lakehouse.writes import retry_commits

    table = _gold_table()
    if table is None:
        return

    def _set() -> None:
        held = table.properties.get(PROP_EVENTS_THROUGH)
        if held and datetime.fromisoformat(held) >= newest:
            return
        with table.transaction() as tx:
            tx.set_properties({PROP_EVENTS_THROUGH: newest.isoformat()})

    retry_commits(_set, table, "advancing the gold events watermark")


def _gold_table() -> Any:
    from pyiceberg.exceptions import NoSuchTableError

    from madlake.lakehouse.catalog import get_catalog
    from madlake.lakehouse.tables import identifier
    from madlake.names import Table

    try:
        return get_catalog().load_table(identifier(Table.TOOL_DAILY_METRICS))
    except NoSuchTableError:
        return None


def unconsumed_events(
    context: Mapping[str, Any], sources: Iterable[str], triggering: Sequence[Any], *, limit: int = 500
) -> list[Any]:
    """Source events no gold run covered yet: those after the gold watermark (:func:`events_through`).

    Airflow may hand a run fewer events than were queued (apache/airflow#56050: with ``max_active_runs=1``, events
    that arrive while a run is going can be left unconsumed until the next event). Gold does not rely on it: each
    event-driven run also reads, through its inlets, the events of every source after the watermark (less
    :data:`EVENTS_OVERLAP`, for events committed out of order), and recomputes their periods too (recomputing a day
    twice gives the same rows). With no watermark yet, the lookback starts at the oldest triggering event.
    """
    accessors = context.get("inlet_events")
    if accessors is None:  # no inlets (a plain call): nothing more to read, and no catalog read for it
        return []
    through = events_through()
    if through is None:
        stamps = [t for t in map(_timestamp, triggering) if t is not None]
        if not stamps:
            return []
        through = min(stamps)
    after = (through - EVENTS_OVERLAP).isoformat()
    from airflow.sdk import Asset

    from madlake.names import asset_uri

    seen = {_event_key(ev) for ev in triggering}
    found = []
    for name in sources:
        try:
            events = list(accessors[Asset(asset_uri(name))].after(after).limit(limit))
        except Exception as exc:  # no inlet declared, or no execution API (a plain call): nothing more to read
            log.info("could not read the events of %s after %s: %s", name, after, exc)
            continue
        for ev in events:
            if _event_key(ev) not in seen:
                seen.add(_event_key(ev))
                found.append(ev)
    if found:
        log.info(
            "%d source events after %s were not among this run's triggering events: recomputing their periods too",
            len(found),
            after,
        )
    return found


def newest_timestamp(events: Iterable[Any]) -> datetime | None:
    stamps = [t for t in map(_timestamp, events) if t is not None]
    return max(stamps) if stamps else None


def gold_periods(
    context: Mapping[str, Any], *, events: Sequence[Any] | None = None, trailing_days: int = GOLD_TRAILING_DAYS
) -> list[Period]:
    """The periods a gold run recomputes, from its events (default: the triggering ones; empty: no period named).

    An explicit ``date`` or ``start``/``end`` (params or conf) is the caller's business: this reads events only.
    """
    events = triggering_events(context) if events is None else list(events)
    periods = affected_periods(events)
    if not periods:
        if events:
            log.info("%d triggering asset events name no period (catalog change?)", len(events))
        return []
    held = gold_days()
    extended = with_trailing(periods, trailing_days, held)
    sources = sorted({str((_extra_of(ev) or {}).get("table", "?")) for ev in events})
    log.info(
        "%d asset events from %s: affected %s; recomputing %s (with the held days whose trailing windows read them)",
        len(events),
        ", ".join(sources),
        _spans(periods),
        _spans(extended),
    )
    return extended


def _spans(periods: Sequence[Period]) -> str:
    return ", ".join(f"{s}" if s == e else f"{s}..{e}" for s, e in periods)
