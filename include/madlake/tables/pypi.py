"""PyPI downloads: daily download aggregates of the tracked packages (``pypi_downloads``)."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import BooleanType, DateType, IntegerType, LongType, NestedField, StringType, TimestamptzType

from madlake.names import Table
from madlake.tables.spec import TableSpec

#: The grain of ``pypi_downloads``: one row per combination of these (nulls compare equal).
GRAIN = ("download_date", "project", "version", "installer", "python_version", "system", "country_code", "ci")

#: Values of the ``source`` column; ``replay-sample`` marks generated sample data (shown as "sample data").
SOURCES = ("bigquery", "clickpy", "replay", "replay-sample")

PYPI_DOWNLOADS = TableSpec(
    name=Table.PYPI_DOWNLOADS,
    schema=Schema(
        NestedField(1, "download_date", DateType(), required=True, doc="UTC day of the downloads"),
        NestedField(2, "project", StringType(), required=True, doc="PyPI project, PEP 503-normalized"),
        NestedField(3, "version", StringType(), required=True, doc="the release version downloaded"),
        NestedField(4, "installer", StringType(), required=False, doc="installer name (pip, uv, poetry, ...)"),
        NestedField(5, "python_version", StringType(), required=False, doc="Python minor version, e.g. 3.11"),
        NestedField(6, "system", StringType(), required=False, doc="OS name (Linux, Windows, Darwin, ...)"),
        NestedField(7, "country_code", StringType(), required=False, doc="ISO 3166-1 alpha-2 code of the client"),
        NestedField(8, "ci", BooleanType(), required=False, doc="whether the download came from CI (details.ci)"),
        NestedField(9, "downloads", LongType(), required=True, doc="number of downloads (files fetched)"),
        NestedField(
            10,
            "source",
            StringType(),
            required=True,
            doc="bigquery | clickpy | replay | replay-sample (replay-sample = generated sample data)",
        ),
    ),
    partition=(("download_date", "day"),),
    sort=("project",),
    key=GRAIN,
    # Keep the cost of a day flat as days accumulate (bench/bench_pypi.py): merge the manifest each commit adds, and
    # keep a short metadata log (each WAP makes ~5 metadata commits; pyiceberg copies the whole metadata per commit).
    properties={
        "commit.manifest-merge.enabled": "true",
        "commit.manifest.min-count-to-merge": "8",
        "write.metadata.previous-versions-max": "20",
        "write.metadata.delete-after-commit.enabled": "true",
    },
    doc=(
        "Daily PyPI download counts of the tracked packages, by version, installer, Python minor version, OS, country "
        "and CI flag. One run per day replaces that day through write-audit-publish (rows that fail the audit are "
        "never published). Null dimension = unknown at the source (ClickPy has no Python/OS/CI split). "
        "source = replay-sample marks generated sample data."
    ),
)

#: Values of ``pypi_downloads_monthly.method`` (how a snapshot counted; the files do not say it: docs/pypi.md).
MONTHLY_METHODS = ("pip-30d", "all-30d", "all-shrinking", "calendar-month")

PYPI_DOWNLOADS_MONTHLY = TableSpec(
    name=Table.PYPI_DOWNLOADS_MONTHLY,
    schema=Schema(
        NestedField(1, "month", DateType(), required=True, doc="first day of the calendar month the counts describe"),
        NestedField(2, "project", StringType(), required=True, doc="PyPI project, PEP 503-normalized"),
        NestedField(
            3, "downloads", LongType(), required=False, doc="downloads in the window; null when below_list (never 0)"
        ),
        NestedField(4, "rank", IntegerType(), required=False, doc="1 = most downloaded; null if absent"),
        NestedField(5, "list_size", IntegerType(), required=True, doc="projects in the snapshot's list"),
        NestedField(6, "list_min_downloads", LongType(), required=True, doc="smallest count in the snapshot's list"),
        NestedField(7, "below_list", BooleanType(), required=True, doc="absent: under list_min_downloads"),
        NestedField(8, "window_days", IntegerType(), required=False, doc="days the counts cover (30, 29, ..., month)"),
        NestedField(9, "installers", StringType(), required=True, doc="pip (pip only) or all (every installer)"),
        NestedField(10, "method", StringType(), required=True, doc="see MONTHLY_METHODS"),
        NestedField(11, "snapshot_date", DateType(), required=True, doc="date of the snapshot file (its commit)"),
        NestedField(12, "source", StringType(), required=True, doc="top-pypi-packages or replay"),
        NestedField(13, "snapshot_id", StringType(), required=False, doc="the file's commit sha (10 chars) if known"),
        NestedField(14, "loaded_at", TimestamptzType(), required=True),
    ),
    partition=(("snapshot_date", "year"),),
    sort=("snapshot_date", "project"),
    key=("snapshot_date", "project"),
    doc=(
        "Monthly PyPI download counts of the tracked projects from every snapshot of hugovk/top-pypi-packages "
        "(2018-02 onward; weekly snapshots in 2018-2019). One row per (snapshot, tracked project): a project absent "
        "from a snapshot's list has below_list = true and downloads = null (only known to be under "
        "list_min_downloads). The counting method changed over time (column method; docs/pypi.md): compare within a "
        "method, or as shares of a category."
    ),
)

TABLES = [PYPI_DOWNLOADS, PYPI_DOWNLOADS_MONTHLY]
