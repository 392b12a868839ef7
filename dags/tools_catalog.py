"""
### tools_catalog: the tracked tools, and the lakehouse they land in

Creates the Iceberg namespace and every registered table that is missing, then loads the tools catalog
(`include/madlake/catalog/tools.yaml`, the single source of truth of what madlake tracks) into `dim_tools`.
Adding a tool is a YAML change: the next run picks it up. Safe to run any number of times.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task
from madlake.names import Dag, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.TOOLS_CATALOG,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    tags=["catalog", "lakehouse"],
    doc_md=__doc__,
)
def tools_catalog() -> None:
    @task
    @guarded
    def init_lakehouse() -> list[str]:
        from madlake.pipelines.tools import init_lakehouse

        return init_lakehouse()

    @task(outlets=[Asset(asset_uri(Table.DIM_TOOLS))])
    @guarded
    def load_dim_tools() -> int:
        from madlake.orchestration.tasks import tools_catalog

        return tools_catalog()

    init_lakehouse() >> load_dim_tools()


tools_catalog()
