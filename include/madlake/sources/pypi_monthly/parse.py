"""Parse one snapshot of ``top-pypi-packages-30-days.json`` into ``pypi_downloads_monthly`` rows.

Three shapes exist (PROVENANCE of the recorded history; all three are accepted, anything else is rejected):

* ``list``: 2018-02-07 only, a bare JSON array of ``{download_count, project}``.
* ``bigquery``: ``{last_update, query: {...}, rows: [...]}`` (pypinfo on BigQuery), 2018-02-10 .. 2025-06-13.
* ``clickhouse``: ``{last_update, source: "ClickHouse", meta, rows, ...}``, 2025-07-05 onward.

Output: one row per tracked project (PEP 503-normalized catalog names). A tracked project absent from the list gets
``downloads = null``, ``rank = null``, ``below_list = true``: its count is only known to be under
``list_min_downloads`` (never 0).

Trimmed copies (``scripts/trim_pypi_history.py``) keep each kept row's original position as ``rank`` and always keep
the list's first and last rows, so ``list_size`` (= the last row's rank) and ``list_min_downloads`` (= the last row's
count) come out as in the full file. Such a copy also records which projects it kept (``madlake_trim.projects``): a
tracked project outside that set is *unknown* for the copy (it was not tracked when the copy was made) and gets no row,
rather than a false ``below_list``. The parser reads ``rank`` and ``madlake_trim`` only when present.

Errors: :class:`SnapshotRejectedError` names the file and the reason (unknown shape, undatable name, missing fields, a
malformed row, no counting method for the date); the caller dead-letters the file and loads the others. A rejected
file yields no row at all: its list size, minimum and ranks could not be trusted.
"""

from __future__ import annotations

import calendar
import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from madlake.sources.pypi_monthly.methods import Method, MethodTable, NoMethodError, load_methods

#: ``<commit date>_<commit sha, 10 chars>.json[.gz]``, e.g. ``2026-04-01_7ec9534546.json.gz``.
FILE_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})_(?P<sha>[0-9a-f]{7,40})\.json(?:\.gz)?$")

SHAPES = ("list", "bigquery", "clickhouse")
_NORMALIZE = re.compile(r"[-_.]+")


class SnapshotRejectedError(ValueError):
    """A snapshot file that cannot be loaded; ``reason`` says why, ``name`` is the file."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def normalize(project: str) -> str:
    """PEP 503 normalization (``Foo.Bar_baz`` -> ``foo-bar-baz``)."""
    return _NORMALIZE.sub("-", project).lower()


def snapshot_name(name: str) -> tuple[date, str]:
    """``(snapshot_date, snapshot_id)`` from a file name.

    Raises:
        SnapshotRejectedError: the name does not follow ``<YYYY-MM-DD>_<sha>.json[.gz]`` or its date is not a date.
    """
    match = FILE_NAME.match(name)
    if not match:
        raise SnapshotRejectedError(name, "undatable file name (expected <YYYY-MM-DD>_<sha>.json.gz)")
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        raise SnapshotRejectedError(name, f"undatable file name: {match['date']!r} is not a date") from None
    return day, match["sha"][:10]


def decode(data: bytes, name: str) -> Any:
    """The JSON document of a (possibly gzip-compressed) file.

    Raises:
        SnapshotRejectedError: not gzip/JSON.
    """
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return json.loads(data)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotRejectedError(name, f"not a JSON document ({type(exc).__name__}: {str(exc)[:200]})") from None


def detect_shape(doc: Any, name: str) -> str:
    """``list``, ``bigquery`` or ``clickhouse``.

    Raises:
        SnapshotRejectedError: any other shape (the reason lists the top-level keys found).
    """
    if isinstance(doc, list):
        return "list"
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        if "meta" in doc or str(doc.get("source", "")).lower() == "clickhouse":
            return "clickhouse"
        if "query" in doc:
            return "bigquery"
    keys = sorted(doc)[:12] if isinstance(doc, dict) else type(doc).__name__
    raise SnapshotRejectedError(name, f"unknown shape of top-pypi-packages file (top level: {keys})")


def _last_update(doc: dict[str, Any], name: str) -> datetime:
    value = doc.get("last_update")
    if not isinstance(value, str) or not value.strip():
        raise SnapshotRejectedError(name, "missing field last_update")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotRejectedError(name, f"last_update {value!r} is not a timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _count(value: Any) -> int | None:
    """A positive download count (ClickHouse may quote 64-bit integers); ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value) or None
    return None


@dataclass(frozen=True)
class ListRow:
    rank: int
    project: str
    downloads: int


def list_rows(raw_rows: list[Any], name: str) -> list[ListRow]:
    """The list's rows with their rank (the row's own ``rank`` in a trimmed copy, else its 1-based position).

    Raises:
        SnapshotRejectedError: a row without a project name or a positive integer ``download_count``, or an empty list.
    """
    out = []
    for i, row in enumerate(raw_rows, start=1):
        if not isinstance(row, dict):
            raise SnapshotRejectedError(name, f"row {i} is not an object: {str(row)[:100]}")
        project = row.get("project")
        downloads = _count(row.get("download_count"))
        if not isinstance(project, str) or not project.strip():
            raise SnapshotRejectedError(name, f"row {i}: missing field project")
        if downloads is None:
            bad = row.get("download_count")
            raise SnapshotRejectedError(name, f"row {i} ({project}): download_count {bad!r} is not a positive integer")
        rank = row.get("rank", i)
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise SnapshotRejectedError(name, f"row {i} ({project}): rank {rank!r} invalid")
        out.append(ListRow(rank, normalize(project.strip()), downloads))
    if not out:
        raise SnapshotRejectedError(name, "the list has no rows")
    return out


def month_described(method: Method, snapshot_date: date, computed_on: date) -> tuple[date, int]:
    """``(month, window_days)``: the first day of the calendar month the counts describe, and the window length.

    * ``calendar-month`` (ClickHouse): the month before the file's date; ``window_days`` = that month's length.
    * window methods: the window is the ``window_days`` days ending the day before ``computed_on`` (the day of the
      file's ``last_update``, else its date); the month is the one holding most of those days, ties going to the
      later month. E.g. a 30-day file of 2018-02-10 (window 01-11 .. 02-09) describes January 2018, one of
      2024-11-01 describes October 2024.
    """
    if method.method == "calendar-month":
        last = snapshot_date.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), calendar.monthrange(last.year, last.month)[1]
    if not method.window_days:
        raise ValueError(f"method {method.method} has no window_days")
    end = computed_on - timedelta(days=1)
    days: dict[date, int] = {}
    for i in range(method.window_days):
        d = end - timedelta(days=i)
        key = d.replace(day=1)
        days[key] = days.get(key, 0) + 1
    month = max(days, key=lambda m: (days[m], m))
    return month, method.window_days


@dataclass(frozen=True)
class SnapshotMeta:
    """What one file says about itself (plus the method the rules assign)."""

    name: str
    snapshot_date: date
    snapshot_id: str
    shape: str
    last_update: datetime | None
    list_size: int
    list_min_downloads: int
    method: Method
    month: date
    window_days: int


@dataclass
class ParsedSnapshot:
    meta: SnapshotMeta
    rows: list[dict[str, Any]]
    #: tracked projects a trimmed copy cannot speak for (not tracked when it was trimmed): no row for them.
    unknown: list[str] = field(default_factory=list)
    #: list entries whose normalized name repeats an earlier (higher-ranked) entry; the first one is kept.
    duplicates: int = 0

    @property
    def below_list(self) -> int:
        return sum(1 for r in self.rows if r["below_list"])


def read_list(doc: Any, name: str) -> tuple[str, datetime | None, list[ListRow], set[str] | None]:
    """``(shape, last_update, rows, projects a trimmed copy kept or None)`` of a decoded document."""
    shape = detect_shape(doc, name)
    if shape == "list":
        return shape, None, list_rows(doc, name), None
    last_update = _last_update(doc, name)
    if shape == "clickhouse" and not isinstance(doc.get("meta"), list):
        raise SnapshotRejectedError(name, "missing field meta")
    trim = doc.get("madlake_trim")
    kept = None
    if isinstance(trim, dict) and isinstance(trim.get("projects"), list):
        kept = {normalize(str(p)) for p in trim["projects"]}
    return shape, last_update, list_rows(doc["rows"], name), kept


def parse_snapshot(
    doc: Any,
    name: str,
    tracked: Iterable[str],
    *,
    source: str = "replay",
    loaded_at: datetime | None = None,
    methods: MethodTable | None = None,
) -> ParsedSnapshot:
    """The ``pypi_downloads_monthly`` rows of one snapshot (``doc``: decoded JSON, or the file's bytes).

    Raises:
        SnapshotRejectedError: see the module docstring.
    """
    snapshot_date, snapshot_id = snapshot_name(name)
    if isinstance(doc, bytes | bytearray):
        doc = decode(bytes(doc), name)
    shape, last_update, rows, kept = read_list(doc, name)
    try:
        method = (methods or load_methods()).method_for(snapshot_date, snapshot_id)
    except NoMethodError as exc:
        raise SnapshotRejectedError(name, str(exc)) from None
    if (method.method == "calendar-month") != (shape == "clickhouse"):
        raise SnapshotRejectedError(name, f"a {shape}-shaped file is not expected for method {method.method}")
    computed_on = last_update.date() if last_update else snapshot_date
    month, window_days = month_described(method, snapshot_date, computed_on)
    by_rank = sorted(rows, key=lambda r: r.rank)
    meta = SnapshotMeta(
        name=name,
        snapshot_date=snapshot_date,
        snapshot_id=snapshot_id,
        shape=shape,
        last_update=last_update,
        list_size=by_rank[-1].rank,
        list_min_downloads=min(r.downloads for r in rows),
        method=method,
        month=month,
        window_days=window_days,
    )
    found: dict[str, ListRow] = {}
    duplicates = 0
    for r in by_rank:
        if r.project in found:
            duplicates += 1
        else:
            found[r.project] = r
    loaded_at = loaded_at or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    unknown: list[str] = []
    for project in sorted({normalize(p) for p in tracked}):
        hit = found.get(project)
        if hit is None and kept is not None and project not in kept:
            unknown.append(project)
            continue
        out.append(
            {
                "month": month,
                "project": project,
                "downloads": hit.downloads if hit else None,
                "rank": hit.rank if hit else None,
                "list_size": meta.list_size,
                "list_min_downloads": meta.list_min_downloads,
                "below_list": hit is None,
                "window_days": window_days,
                "installers": method.installers,
                "method": method.method,
                "snapshot_date": snapshot_date,
                "source": source,
                "snapshot_id": snapshot_id,
                "loaded_at": loaded_at,
            }
        )
    return ParsedSnapshot(meta, out, unknown, duplicates)
