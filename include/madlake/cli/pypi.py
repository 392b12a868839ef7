"""``madlake pypi load|replay-days|monthly``: the PyPI DAGs' pipelines without Airflow (same code, same rules)."""

from __future__ import annotations

import argparse
import time
from datetime import date

from madlake.cli.common import Subparsers
from madlake.orchestration.request import RunRequest


def _cmd_load(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    from madlake.pipelines import pypi

    summaries = pypi.load_range(
        start, end, RunRequest.for_cli("pypi", start=start, end=end), source_mode=args.source_mode
    )
    for s in summaries:
        print(
            f"{s['day']}: {s['rows']} rows, {s['downloads']} downloads, {s['rejected']} rejected, "
            f"{s['absent_packages']} tracked packages absent ({', '.join(s['source'])})"
        )
    return 0


def _cmd_days(args: argparse.Namespace) -> int:
    from madlake.config import get_settings
    from madlake.sources.pypi.replay import available_days

    days = available_days(get_settings().replay_path("pypi"))
    span = f": {days[0]} .. {days[-1]}" if days else ""
    print(f"{len(days)} replay days{span}")
    return 0


def _cmd_monthly(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    began = time.perf_counter()
    from madlake.pipelines import pypi_monthly

    request = RunRequest.for_cli("pypi_monthly", start=start, end=end)
    s = pypi_monthly.load_range(start, end, request, source_mode=args.source_mode, progress=True)
    span = f"; months {s['months'][0]} .. {s['months'][-1]}" if s["months"] else ""
    print(
        f"pypi_downloads_monthly {s['start']} .. {s['end']} ({s['source']}): {s['snapshots']} snapshots from "
        f"{s['files']} files ({s['superseded']} same-day superseded), {s['rows']} rows ({s['below_list']} below the "
        f"list), {s['rejected']} rejected{span}; {time.perf_counter() - began:.1f}s"
    )
    return 0


def register(sub: Subparsers) -> None:
    """Add ``madlake pypi ...`` (cheap: no heavy imports until a command runs)."""
    group = sub.add_parser("pypi", help="PyPI downloads: backfill days without Airflow, list replay days")
    cmds = group.add_subparsers(dest="pypi_command", required=True)
    p = cmds.add_parser("load", help="load days START..END (inclusive) through the same WAP path as the DAG")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", help="last day, YYYY-MM-DD (default: START)")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_load)
    p = cmds.add_parser("replay-days", help="which days the replay folder covers")
    p.set_defaults(handler=_cmd_days)
    p = cmds.add_parser(
        "monthly", help="load the top-pypi-packages snapshots dated START..END into pypi_downloads_monthly"
    )
    p.add_argument("--start", required=True, help="first snapshot date, YYYY-MM-DD")
    p.add_argument("--end", help="last snapshot date, YYYY-MM-DD (default: START)")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_monthly)
