"""``madlake backfill DAG_ID --start D1 --end D2``: an Airflow backfill without a scheduler.

See :mod:`madlake.orchestration.backfill` for what it runs (Airflow's backfill dates, each through ``dag.test``).
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from madlake.cli.common import Subparsers


def _cmd_backfill(args: argparse.Namespace) -> int:
    from madlake.names import Dag
    from madlake.orchestration.backfill import run_backfill, summary_lines
    from madlake.orchestration.runner import run_dag

    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    conf = json.loads(args.conf) if args.conf else None
    results = run_backfill(args.dag_id, start, end, conf=conf, retries=args.retries, progress=not args.no_progress)
    for line in summary_lines(args.dag_id, results):
        print(line)
    ok_days = [r.day for r in results if r.ok]
    if args.downstream and ok_days:
        gold_conf = {"start": min(ok_days).isoformat(), "end": max(ok_days).isoformat()}
        print(f"downstream: {Dag.GOLD_METRICS} {gold_conf['start']}..{gold_conf['end']}, then {Dag.DASHBOARD_PUBLISH}")
        run_dag(Dag.GOLD_METRICS, None, conf=gold_conf)
        run_dag(Dag.DASHBOARD_PUBLISH, None)
    return 1 if any(not r.ok for r in results) else 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "backfill",
        help="run a DAG for every logical date of a range (Airflow's backfill dates, each through dag.test)",
    )
    p.add_argument("dag_id")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", help="last day, YYYY-MM-DD (inclusive; default: START)")
    p.add_argument("--conf", help="JSON object of run params for every run")
    p.add_argument("--retries", action="store_true", help="honour task retries (default: each task runs once)")
    p.add_argument("--downstream", action="store_true", help="then recompute gold over the days and republish")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_backfill)
