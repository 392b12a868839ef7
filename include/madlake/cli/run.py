"""``madlake run DAG_ID``: one DAG run in-process through Airflow (``dag.test``), the scheduler's code path."""

from __future__ import annotations

import argparse

from madlake.cli.common import Subparsers, iso_date, json_object


def _run(args: argparse.Namespace) -> int:
    from madlake.orchestration.runner import run_dag

    run_id = run_dag(args.dag_id, args.date, conf=args.conf, retries=args.retries)
    print(f"{args.dag_id}: run {run_id} succeeded")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("run", help="run a DAG in-process through Airflow (the scheduler's code path)")
    p.add_argument("dag_id")
    p.add_argument("--date", type=iso_date, help="the day the run covers (YYYY-MM-DD); default: a manual run")
    p.add_argument("--conf", type=json_object, help="JSON object of run params")
    p.add_argument("--retries", action="store_true", help="honour task retries (default: fail fast)")
    p.set_defaults(handler=_run)
