"""
### lakehouse_maintenance: keep the Iceberg tables fast and the storage bill flat, without losing a byte anyone needs

Weekly, for every table in the lakehouse (one mapped task per table, two at a time):

1. **compact** partitions that have piled up small files (one file per daily load) into one file, atomically and
   with identical rows;
2. **expire** snapshots older than the retention (`retention_days`, default 7: how far back time travel reaches),
   never a tagged snapshot or a branch head (audit branches a failed run kept), always main's last 3;
3. **delete unreferenced files**: files no remaining snapshot references (expired versions, files a killed writer
   left before its commit), but only once older than `orphan_min_age_hours` (default 3), so a load in flight keeps
   its files.

On the `aws` profile Athena does steps 1-3 itself (`OPTIMIZE ... REWRITE DATA USING BIN_PACK`, `VACUUM`, with the
retention set as table properties). Each table's report (files and bytes before/after, snapshots expired, files
deleted) is in the task log and XCom; `summarize` adds them up. `dry_run` reports without changing anything.

**Not backfillable, on purpose**: maintenance acts on the tables' current state, not on a day's data, so catchup is
off and a backfill would only repeat the latest run. Safe to rerun at any time; commits race safely with loads.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, task
from madlake.names import Dag
from madlake.orchestration.defaults import START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.LAKEHOUSE_MAINTENANCE,
    schedule="@weekly",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(execution_timeout=timedelta(hours=2)),
    params={
        "retention_days": Param(7, type="integer", minimum=0, description="expire snapshots older than this"),
        "orphan_min_age_hours": Param(
            3, type="number", minimum=0, description="keep unreferenced files younger than this (writers in flight)"
        ),
        "dry_run": Param(False, type="boolean", description="report what would be done, change nothing"),
    },
    tags=["lakehouse", "maintenance", "ops"],
    doc_md=__doc__,
)
def lakehouse_maintenance() -> None:
    @task
    @guarded
    def list_tables() -> list[str]:
        """The registered tables that exist in this lakehouse."""
        from madlake.ops.maintenance import maintainable_tables

        return maintainable_tables()

    @task(max_active_tis_per_dag=2)
    @guarded
    def maintain_table(table: str) -> dict:
        """Compact, expire and clean one table; returns its before/after report."""
        from madlake.orchestration.tasks import maintain_table

        return maintain_table(table)

    @task
    @guarded
    def summarize(reports: list[dict]) -> dict:
        """Totals over every table (logged as one line)."""
        from madlake.ops.maintenance import summarize_reports

        return summarize_reports(list(reports))

    summarize(maintain_table.expand(table=list_tables()))


lakehouse_maintenance()
