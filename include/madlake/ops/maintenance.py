"""Lakehouse maintenance: compact small files, expire old snapshots, delete files no snapshot needs.

pyiceberg 0.12 expires snapshots in metadata only, has no compaction and no orphan-file removal, so on the local and
REST profiles madlake does those itself; on the ``aws`` profile (Glue catalog) Athena's own ``OPTIMIZE ... REWRITE
DATA USING BIN_PACK`` and ``VACUUM`` do the same job server-side (:func:`athena_maintenance`).

One table is maintained in three steps (:func:`maintain_table`; expiry also runs once before compaction, which makes
each compaction commit cheaper on a table with a long snapshot list):

1. **Compact** every partition of the current spec that has at least ``compact_min_files`` small data files and no
   delete files: read the partition's rows and ``overwrite`` exactly that partition with them (one atomic delete +
   append commit, sorted by the table's sort columns). Rows are unchanged, so the table fingerprint is unchanged. The
   replaced files stay on disk: the previous snapshot still references them until it expires.
2. **Expire** snapshots older than ``snapshot_retention``, except branch and tag heads (a tagged snapshot, or the
   branch an audit kept, is never expired) and the ``retain_last`` most recent snapshots of main's history.
3. **Delete unreferenced files** in the table's own ``data/`` and ``metadata/`` folders (a location that is the
   warehouse root or holds another table is refused, see :func:`check_own_location`): every file not reachable from
   *any* remaining snapshot (its manifest list, its manifests, every data and delete file those list, live or not),
   not the current metadata file nor one in the metadata log, not a statistics file, **and** older than
   ``orphan_min_age``. The age guard protects a writer in flight: its data files exist before its commit does. The
   default (3 h) is three times the tasks' 1 h ``execution_timeout``, so no running task can own a file that old;
   raise it if a DAG runs longer tasks. Files of a process killed between writing and committing are deleted by the
   first run after that age.

Failure semantics: every step commits through the catalog's compare-and-swap. A compaction or expiry that loses a race
with a pipeline's commit raises ``CommitFailedException`` and is redone from a fresh read (up to 8 times), so
maintenance never overwrites a concurrent write. Deletion happens only after the expiry commit succeeded, from the
table state re-read after it. A reader holding a snapshot that is still retained keeps working; a reader of a snapshot
*expired* by this run (older than the retention, 7 days by default) loses its files, exactly as in Iceberg's Java
``expireSnapshots`` + ``deleteOrphanFiles``. A crash in the middle leaves at worst extra files for the next run.
"""

from __future__ import annotations

import logging
import os.path
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow.compute as pc
from pyarrow import fs
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, GreaterThanOrEqual, IsNull, LessThan
from pyiceberg.table import Table as IcebergTable
from pyiceberg.types import TimestampType, TimestamptzType

from madlake.config import get_settings
from madlake.lakehouse.catalog import filesystem, get_catalog
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext, conform, retry_commits
from madlake.sql.engine import AthenaEngine
from madlake.tables import all_specs

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1)
MiB = 1024 * 1024


@dataclass(frozen=True)
class MaintenancePolicy:
    """How aggressive maintenance is. The defaults suit a daily-loaded table maintained weekly.

    Attributes:
        snapshot_retention: snapshots older than this may be expired (time travel reaches this far back).
        retain_last: the most recent snapshots of main's history always kept, whatever their age.
        orphan_min_age: an unreferenced file younger than this is kept (it may belong to a commit in flight).
        compact_min_files: a partition is compacted once it has this many small data files.
        small_file_bytes: a data file below this size counts as small.
        dry_run: report what would be done, change nothing.
    """

    snapshot_retention: timedelta = timedelta(days=7)
    retain_last: int = 3
    orphan_min_age: timedelta = timedelta(hours=3)
    compact_min_files: int = 8
    small_file_bytes: int = 32 * MiB
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.retain_last < 1:
            raise ValueError("retain_last must be at least 1 (the current snapshot is always kept)")
        if self.compact_min_files < 2:
            raise ValueError("compact_min_files must be at least 2 (compacting one file gains nothing)")
        if self.snapshot_retention < timedelta(0) or self.orphan_min_age < timedelta(0):
            raise ValueError("snapshot_retention and orphan_min_age must not be negative")


@dataclass(frozen=True)
class StorageStats:
    """Files of one table: everything under its location (``files``/``bytes``) and the current snapshot's data files."""

    files: int
    bytes: int
    data_files: int
    data_bytes: int
    snapshots: int


@dataclass
class TableReport:
    """What maintenance did to one table; JSON-able (``as_dict``) for XCom and the CLI."""

    table: str
    before: StorageStats | None = None
    after: StorageStats | None = None
    partitions_compacted: int = 0
    files_compacted: int = 0
    files_written: int = 0
    partitions_skipped_deletes: int = 0
    snapshots_expired: int = 0
    orphans_deleted: int = 0
    orphan_bytes_deleted: int = 0
    orphans_too_young: int = 0
    dry_run: bool = False
    engine: str = "pyiceberg"
    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------------------------------
# Files and references
# --------------------------------------------------------------------------------------------------------------------


def _fs_path(uri: str) -> str:
    """The filesystem path of a file URI as pyarrow lists it (``file://`` stripped; ``s3://`` -> ``bucket/key``)."""
    for prefix in ("file://", "s3://", "s3a://"):
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return uri


@dataclass(frozen=True)
class _FileInfo:
    path: str
    size: int
    mtime: datetime | None


def list_table_files(table: IcebergTable) -> list[_FileInfo]:
    """Every file under the table's location, with size and modification time."""
    storage, root = filesystem(table.location())
    try:
        infos = storage.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True))
    except FileNotFoundError:
        return []
    out = []
    for info in infos:
        if info.type != fs.FileType.File:
            continue
        mtime = info.mtime
        if mtime is not None and mtime.tzinfo is None:
            mtime = mtime.replace(tzinfo=UTC)
        out.append(_FileInfo(info.path, int(info.size or 0), mtime))
    return out


def referenced_files(table: IcebergTable) -> set[str]:
    """Paths (as listed by :func:`list_table_files`) that some snapshot or the metadata still needs.

    Everything reachable from every snapshot in the metadata (not only main's): manifest lists, manifests, and every
    data/delete file entry of those manifests, including entries marked deleted (keeping more is always safe).
    """
    metadata = table.metadata
    io = table.io
    keep: set[str] = set()
    if table.metadata_location:
        keep.add(_fs_path(table.metadata_location))
    keep.update(_fs_path(entry.metadata_file) for entry in metadata.metadata_log)
    keep.update(_fs_path(s.statistics_path) for s in metadata.statistics)
    keep.update(_fs_path(s.statistics_path) for s in metadata.partition_statistics)
    seen_manifests: set[str] = set()
    for snapshot in metadata.snapshots:
        keep.add(_fs_path(snapshot.manifest_list))
        for manifest in snapshot.manifests(io):
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            keep.add(_fs_path(manifest.manifest_path))
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=False):
                keep.add(_fs_path(entry.data_file.file_path))
    return keep


def storage_stats(table: IcebergTable) -> StorageStats:
    files = list_table_files(table)
    data_files = data_bytes = 0
    if table.current_snapshot() is not None:
        for task in table.scan().plan_files():
            data_files += 1
            data_bytes += task.file.file_size_in_bytes
    return StorageStats(
        files=len(files),
        bytes=sum(f.size for f in files),
        data_files=data_files,
        data_bytes=data_bytes,
        snapshots=len(table.metadata.snapshots),
    )


# --------------------------------------------------------------------------------------------------------------------
# Step 1: compaction
# --------------------------------------------------------------------------------------------------------------------


def partition_filter(table: IcebergTable, partition: Sequence[Any]) -> BooleanExpression | None:
    """A row filter selecting exactly one partition of the current spec; ``None`` for transforms it cannot express.

    Supports identity, day, month and year transforms (what madlake's tables use). Partition values are as stored in
    manifests: days/months/years since 1970 for the time transforms.
    """
    schema = table.schema()
    result: BooleanExpression = AlwaysTrue()
    for pf, value in zip(table.spec().fields, partition, strict=True):
        column = schema.find_column_name(pf.source_id)
        if column is None:
            return None
        transform = str(pf.transform)
        if value is None:
            result = And(result, IsNull(column))
            continue
        if transform == "identity":
            result = And(result, EqualTo(column, value))
            continue
        if transform == "day":
            start = _EPOCH + timedelta(days=int(value))
            end = start + timedelta(days=1)
        elif transform == "month":
            year, month = divmod(int(value), 12)
            start = date(1970 + year, month + 1, 1)
            end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        elif transform == "year":
            start = date(1970 + int(value), 1, 1)
            end = date(start.year + 1, 1, 1)
        else:
            return None
        if isinstance(schema.find_field(pf.source_id).field_type, TimestampType | TimestamptzType):
            tz = UTC if isinstance(schema.find_field(pf.source_id).field_type, TimestamptzType) else None
            lo = datetime.combine(start, datetime.min.time(), tzinfo=tz).isoformat()
            hi = datetime.combine(end, datetime.min.time(), tzinfo=tz).isoformat()
        else:
            lo, hi = start.isoformat(), end.isoformat()
        result = And(result, And(GreaterThanOrEqual(column, lo), LessThan(column, hi)))
    return result


def _sort_columns(table: IcebergTable) -> list[str]:
    try:
        spec = all_specs().get(table.name()[-1])
    except Exception:
        spec = None
    names = {f.name for f in table.schema().fields}
    return [c for c in (spec.sort if spec else ()) if c in names]


def _compaction_candidates(
    table: IcebergTable, policy: MaintenancePolicy, report: TableReport
) -> list[tuple[tuple[Any, ...], int]]:
    """Partitions worth compacting: ``(partition values, small file count)``."""
    if table.current_snapshot() is None:
        return []
    spec_id = table.spec().spec_id
    small: dict[tuple[Any, ...], int] = defaultdict(int)
    with_deletes: set[tuple[Any, ...]] = set()
    other_spec = 0
    for task in table.scan().plan_files():
        if task.file.spec_id != spec_id:
            other_spec += 1
            continue
        key = tuple(task.file.partition)
        if task.delete_files:
            with_deletes.add(key)
        if task.file.file_size_in_bytes < policy.small_file_bytes:
            small[key] += 1
    if other_spec:
        log.info("%s: %d file(s) of an older partition spec are left as they are", table.name(), other_spec)
    report.partitions_skipped_deletes = len([k for k in with_deletes if small.get(k, 0) >= policy.compact_min_files])
    return sorted(
        ((k, n) for k, n in small.items() if n >= policy.compact_min_files and k not in with_deletes),
        key=lambda kn: str(kn[0]),
    )


def compact_partition(
    table: IcebergTable, partition: Sequence[Any], ctx: CommitContext, *, attempts: int = 8
) -> tuple[int, int, int]:
    """Rewrite one partition's files into as few as pyiceberg writes (one per target file size), atomically.

    Returns ``(files before, files after, rows)``. The rows are re-read on every attempt, so a pipeline commit that
    lands in between is kept, not overwritten. Raises ``ValueError`` for a partition it cannot express as a filter.
    """
    row_filter = partition_filter(table, partition)
    if row_filter is None:
        raise ValueError(f"{table.name()}: cannot express partition {partition} as a row filter")
    sort_by = _sort_columns(table)

    def op() -> tuple[int, int, int]:
        tasks = [
            t for t in table.scan(row_filter=row_filter).plan_files() if tuple(t.file.partition) == tuple(partition)
        ]
        expected_rows = sum(t.file.record_count for t in tasks)
        rows = table.scan(row_filter=row_filter).to_arrow()
        if rows.num_rows != expected_rows:
            raise RuntimeError(
                f"{table.name()}: partition {partition} read {rows.num_rows} rows but its files hold {expected_rows}; "
                "not compacting (the filter does not match the partition exactly)"
            )
        if sort_by:
            rows = rows.take(pc.sort_indices(rows, sort_keys=[(c, "ascending") for c in sort_by]))
        props = {**ctx.properties(), "madlake.operation": "compaction"}
        table.overwrite(conform(table, rows), overwrite_filter=row_filter, snapshot_properties=props)
        after = [
            t for t in table.scan(row_filter=row_filter).plan_files() if tuple(t.file.partition) == tuple(partition)
        ]
        return len(tasks), len(after), rows.num_rows

    return retry_commits(op, table, "compaction", attempts)


# --------------------------------------------------------------------------------------------------------------------
# Step 2: snapshot expiry
# --------------------------------------------------------------------------------------------------------------------


def snapshots_to_expire(table: IcebergTable, policy: MaintenancePolicy, now: datetime | None = None) -> list[int]:
    """Snapshot ids older than the retention, except branch/tag heads and main's last ``retain_last`` snapshots."""
    metadata = table.metadata
    cutoff_ms = int(((now or datetime.now(UTC)) - policy.snapshot_retention).timestamp() * 1000)
    protected = {ref.snapshot_id for ref in metadata.refs.values()}
    # main's recent history: walk parents from the current snapshot.
    current = table.current_snapshot()
    kept = 0
    while current is not None and kept < policy.retain_last:
        protected.add(current.snapshot_id)
        kept += 1
        current = table.snapshot_by_id(current.parent_snapshot_id) if current.parent_snapshot_id else None
    return sorted(
        s.snapshot_id for s in metadata.snapshots if s.timestamp_ms < cutoff_ms and s.snapshot_id not in protected
    )


def expire_snapshots(table: IcebergTable, policy: MaintenancePolicy, *, attempts: int = 8) -> int:
    """Expire what :func:`snapshots_to_expire` selects (recomputed after a lost race); returns how many."""

    def op() -> int:
        ids = snapshots_to_expire(table, policy)
        if ids and not policy.dry_run:
            table.maintenance.expire_snapshots().by_ids(ids).commit()
            table.refresh()
        return len(ids)

    return retry_commits(op, table, "expire_snapshots", attempts)


# --------------------------------------------------------------------------------------------------------------------
# Step 3: unreferenced files
# --------------------------------------------------------------------------------------------------------------------


class UnsafeLocationError(RuntimeError):
    """A table's location is not its own (the warehouse root, shared with another table...): nothing is deleted."""


#: The only folders under a table's location that Iceberg writes, so the only ones unreferenced files are removed from.
ICEBERG_FOLDERS = ("data", "metadata")


def _other_table_locations(table: IcebergTable) -> list[str]:
    """Filesystem paths of the other tables registered in the same catalog namespace."""
    try:
        catalog = table.catalog
        namespace = table.name()[:-1]
        idents = [i for i in catalog.list_tables(namespace) if tuple(i) != tuple(table.name())]
        return [_fs_path(catalog.load_table(i).location()).rstrip("/") for i in idents]
    except Exception as exc:  # a catalog that cannot list: refuse to delete rather than guess
        raise UnsafeLocationError(f"{table.name()}: cannot list the other tables' locations ({exc})") from exc


def check_own_location(table: IcebergTable, others: Sequence[str] | None = None) -> str:
    """The table's location as a filesystem path, after proving it is the table's own.

    Refused (:class:`UnsafeLocationError`): a location that is a filesystem or bucket root, the warehouse root or an
    ancestor of it, or equal to / an ancestor of another table's location.
    """
    root = _fs_path(table.location()).rstrip("/")
    name = ".".join(table.name())
    if not root or root.count("/") < (1 if table.location().startswith("s3") else 2):
        raise UnsafeLocationError(f"{name}: location {table.location()!r} is a root folder; not deleting anything")

    warehouse = _fs_path(get_settings().warehouse_uri).rstrip("/")
    if warehouse == root or warehouse.startswith(root + "/"):
        raise UnsafeLocationError(f"{name}: location {table.location()!r} is the warehouse root or contains it")
    for other in _other_table_locations(table) if others is None else others:
        if other == root or other.startswith(root + "/"):
            raise UnsafeLocationError(f"{name}: location {table.location()!r} also holds another table ({other})")
    return root


def deletable(path: str, root: str, keep: set[str], local: bool) -> bool:
    """Whether maintenance may delete ``path``: an unreferenced regular file in ``<root>/data`` or ``<root>/metadata``.

    For local files the real path (symbolic links resolved) must also stay inside the real ``root``.
    """
    if path in keep or not any(path.startswith(f"{root}/{folder}/") for folder in ICEBERG_FOLDERS):
        return False
    if ".." in path.split("/"):
        return False
    if local:
        if os.path.islink(path):
            return False
        real_root = os.path.realpath(root)
        if not os.path.realpath(path).startswith(real_root + os.sep):
            return False
    return True


def remove_unreferenced_files(
    table: IcebergTable, policy: MaintenancePolicy, report: TableReport, now: datetime | None = None
) -> list[str]:
    """Delete files under the table location that no snapshot or metadata needs and that are old enough.

    The reference set is computed from a fresh read of the table *after* listing, so a commit landing during the
    listing only adds references (never removes one a file could need). Returns the deleted paths.

    Only files inside the table's own ``data/`` and ``metadata/`` folders are candidates (:func:`deletable`), after
    :func:`check_own_location` proved the location belongs to this table alone (no other table's location is equal to
    it or nested inside it). If the listing and the references disagree on how paths are written (the
    current metadata file is not among the listed files), nothing is deleted.

    Raises:
        UnsafeLocationError: the location is not the table's own, or the paths do not line up; nothing was deleted.
    """
    storage, _root = filesystem(table.location())
    others = _other_table_locations(table)
    root = check_own_location(table, others)
    local = not table.location().startswith(("s3://", "s3a://"))
    listed = list_table_files(table)
    table.refresh()
    keep = referenced_files(table)
    listed_paths = {info.path for info in listed}
    current = _fs_path(table.metadata_location) if table.metadata_location else None
    if current and current.startswith(root + "/") and current not in listed_paths:
        raise UnsafeLocationError(
            f"{table.name()}: the current metadata file {current} is not among the {len(listed)} listed files; "
            "listing and references disagree on paths, so nothing is deleted"
        )
    min_mtime = (now or datetime.now(UTC)) - policy.orphan_min_age
    deleted = []
    for info in listed:
        if not deletable(info.path, root, keep, local):
            continue
        if info.mtime is None or info.mtime > min_mtime:
            report.orphans_too_young += 1
            continue
        if not policy.dry_run:
            try:
                storage.delete_file(info.path)
            except FileNotFoundError:
                continue
        deleted.append(info.path)
        report.orphans_deleted += 1
        report.orphan_bytes_deleted += info.size
    if deleted:
        log.info(
            "%s: %s %d unreferenced file(s), %d bytes (%d too young to delete)",
            table.name(),
            "would delete" if policy.dry_run else "deleted",
            len(deleted),
            report.orphan_bytes_deleted,
            report.orphans_too_young,
        )
    return deleted


# --------------------------------------------------------------------------------------------------------------------
# One table, all tables
# --------------------------------------------------------------------------------------------------------------------


def maintain_table(
    table: IcebergTable, policy: MaintenancePolicy | None = None, ctx: CommitContext | None = None
) -> TableReport:
    """Compact, expire and clean one table (see the module docstring); returns the report with before/after stats."""
    policy = policy or MaintenancePolicy()
    ctx = ctx or CommitContext.current(source="maintenance", default_dag_id="maintain")
    started = time.perf_counter()
    name = ".".join(table.name())
    report = TableReport(table=name, dry_run=policy.dry_run)
    table.refresh()
    report.before = storage_stats(table)

    # Expire first as well: every compaction commit rewrites the metadata, whose cost grows with the snapshot list.
    report.snapshots_expired = expire_snapshots(table, policy)
    candidates = _compaction_candidates(table, policy, report)
    for partition, n_small in candidates:
        if policy.dry_run:
            report.partitions_compacted += 1
            report.files_compacted += n_small
            continue
        before, after, rows = compact_partition(table, partition, ctx)
        report.partitions_compacted += 1
        report.files_compacted += before
        report.files_written += after
        log.info("%s: compacted partition %s: %d files -> %d (%d rows)", name, partition, before, after, rows)

    if candidates and not policy.dry_run:  # the pre-compaction snapshots may now be expirable too
        report.snapshots_expired += expire_snapshots(table, policy)
    remove_unreferenced_files(table, policy, report)
    table.refresh()
    report.after = storage_stats(table)
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "Maintained %s%s: files %d -> %d, bytes %d -> %d, data files %d -> %d; %d partition(s) compacted, "
        "%d snapshot(s) expired, %d unreferenced file(s) deleted (%d bytes) in %.2fs",
        name,
        " (dry run)" if policy.dry_run else "",
        report.before.files,
        report.after.files,
        report.before.bytes,
        report.after.bytes,
        report.before.data_files,
        report.after.data_files,
        report.partitions_compacted,
        report.snapshots_expired,
        report.orphans_deleted,
        report.orphan_bytes_deleted,
        report.seconds,
    )
    return report


def maintainable_tables() -> list[str]:
    """Registered tables that exist in the active lakehouse, in registry order."""
    catalog = get_catalog()
    ns = get_settings().namespace
    if ns not in {n[0] for n in catalog.list_namespaces()}:
        return []
    existing = {ident[-1] for ident in catalog.list_tables(ns)}
    return [name for name in all_specs() if name in existing]


def maintain(
    names: Iterable[str] | None = None, policy: MaintenancePolicy | None = None, ctx: CommitContext | None = None
) -> list[TableReport]:
    """Maintain ``names`` (default: every registered table that exists) on the active profile.

    On the ``aws`` profile with the Glue catalog this runs Athena's ``OPTIMIZE`` and ``VACUUM``; elsewhere the
    pyiceberg steps above. A table that fails is logged and the others still run; the first error is then re-raised
    (naming every failed table) so the task fails and is retried. ``ctx`` defaults to the running task's context.
    """
    policy = policy or MaintenancePolicy()
    ctx = ctx or CommitContext.current(source="maintenance", default_dag_id="maintain")
    settings = get_settings()
    wanted = list(names) if names is not None else maintainable_tables()
    reports: list[TableReport] = []
    failures: list[str] = []
    first_error: Exception | None = None
    for i, name in enumerate(wanted, 1):
        log.info("Maintenance %d/%d: %s", i, len(wanted), name)
        try:
            if settings.profile == "aws" and settings.effective_catalog == "glue":
                reports.append(athena_maintenance(name, policy))
            else:
                reports.append(maintain_table(load_table(name), policy, ctx))
        except Exception as exc:
            log.exception("Maintenance of %s failed", name)
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            first_error = first_error or exc
    if failures:
        raise RuntimeError(f"maintenance failed for {len(failures)} table(s): {'; '.join(failures)}") from first_error
    return reports


# --------------------------------------------------------------------------------------------------------------------
# aws profile: Athena does it
# --------------------------------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def athena_statements(database: str, table: str, policy: MaintenancePolicy) -> list[str]:
    """The Athena statements maintaining one Iceberg table, in order.

    Identifiers cannot be bound as parameters, so they are checked against ``[a-z][a-z0-9_]*`` (the names madlake
    registers) and anything else is refused; the numbers are the policy's integers.
    """
    for ident in (database, table):
        if not _IDENTIFIER.match(ident):
            raise ValueError(f"refusing to put {ident!r} into an Athena statement: not a plain lowercase identifier")
    qualified = f"{database}.{table}"
    age = int(policy.snapshot_retention.total_seconds())
    return [
        # VACUUM reads its retention from these table properties (Athena's defaults: 5 days, keep 1).
        f"ALTER TABLE {qualified} SET TBLPROPERTIES ("
        f"'vacuum_max_snapshot_age_seconds'='{age}', 'vacuum_min_snapshots_to_keep'='{int(policy.retain_last)}')",
        f"OPTIMIZE {qualified} REWRITE DATA USING BIN_PACK",
        f"VACUUM {qualified}",
    ]


def athena_maintenance(name: str, policy: MaintenancePolicy, engine: AthenaEngine | None = None) -> TableReport:
    """Run :func:`athena_statements` for table ``name`` and report live data files before and after.

    Each statement waits for Athena and raises ``QueryError`` with Athena's reason on failure (the task then retries;
    both statements are safe to repeat). ``dry_run`` only lists the statements.
    """
    settings = get_settings()
    started = time.perf_counter()
    statements = athena_statements(settings.namespace, name, policy)
    report = TableReport(table=f"{settings.namespace}.{name}", dry_run=policy.dry_run, engine="athena")
    table = load_table(name)
    report.before = storage_stats(table)
    if not policy.dry_run:
        engine = engine or AthenaEngine(settings)
        for i, sql in enumerate(statements, 1):
            log.info("Athena maintenance of %s (%d/%d): %s", name, i, len(statements), sql)
            engine.execute(sql)
            report.statements.append(sql)
    else:
        report.statements = statements
    table.refresh()
    report.after = storage_stats(table)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# --------------------------------------------------------------------------------------------------------------------
# Task bodies
# --------------------------------------------------------------------------------------------------------------------


def policy_from_params(params: dict[str, Any]) -> MaintenancePolicy:
    """A policy from the DAG's params (``retention_days``, ``orphan_min_age_hours``, ``dry_run``), else defaults."""
    defaults = MaintenancePolicy()
    retention = params.get("retention_days")
    min_age = params.get("orphan_min_age_hours")
    return MaintenancePolicy(
        snapshot_retention=timedelta(days=float(retention)) if retention is not None else defaults.snapshot_retention,
        orphan_min_age=timedelta(hours=float(min_age)) if min_age is not None else defaults.orphan_min_age,
        dry_run=bool(params.get("dry_run", False)),
    )


def maintain_from_params(table: str, params: dict[str, Any]) -> dict[str, Any]:
    """Task body of ``lakehouse_maintenance.maintain_table``: maintain one table, return its report as a dict."""
    (report,) = maintain([table], policy_from_params(params))
    return report.as_dict()


def summarize_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over table reports: files and bytes before/after, compactions, expiries, deletions."""
    total: dict[str, Any] = {
        "tables": len(reports),
        "files_before": 0,
        "files_after": 0,
        "bytes_before": 0,
        "bytes_after": 0,
        "data_files_before": 0,
        "data_files_after": 0,
        "partitions_compacted": 0,
        "snapshots_expired": 0,
        "orphans_deleted": 0,
        "orphan_bytes_deleted": 0,
    }
    for r in reports:
        before, after = r.get("before") or {}, r.get("after") or {}
        total["files_before"] += before.get("files", 0)
        total["files_after"] += after.get("files", 0)
        total["bytes_before"] += before.get("bytes", 0)
        total["bytes_after"] += after.get("bytes", 0)
        total["data_files_before"] += before.get("data_files", 0)
        total["data_files_after"] += after.get("data_files", 0)
        for k in ("partitions_compacted", "snapshots_expired", "orphans_deleted", "orphan_bytes_deleted"):
            total[k] += r.get(k, 0)
    log.info(
        "Maintenance of %d table(s): files %d -> %d, bytes %d -> %d, data files %d -> %d, %d partition(s) compacted, "
        "%d snapshot(s) expired, %d unreferenced file(s) deleted",
        total["tables"],
        total["files_before"],
        total["files_after"],
        total["bytes_before"],
        total["bytes_after"],
        total["data_files_before"],
        total["data_files_after"],
        total["partitions_compacted"],
        total["snapshots_expired"],
        total["orphans_deleted"],
    )
    return total
