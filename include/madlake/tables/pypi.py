"""PyPI downloads: daily download aggregates of the tracked packages (``pypi_downloads``)."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import BooleanType, DateType, LongType, NestedField, StringType

from madlake.lakehouse.spec import TableSpec
from madlake.names import Table

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

TABLES = [PYPI_DOWNLOADS]
