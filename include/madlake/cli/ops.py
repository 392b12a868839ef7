"""``madlake maintain``: the ``lakehouse_maintenance`` DAG's work from the command line (same code, same rules)."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta

from madlake.cli.common import Subparsers


def _maintain(args: argparse.Namespace) -> int:
    from madlake.lakehouse.writes import CommitContext
    from madlake.ops.maintenance import MaintenancePolicy, maintain, summarize_reports

    policy = MaintenancePolicy(
        snapshot_retention=timedelta(days=args.retention_days),
        retain_last=args.retain_last,
        orphan_min_age=timedelta(hours=args.orphan_min_age_hours),
        compact_min_files=args.compact_min_files,
        dry_run=args.dry_run,
    )
    # An explicit context: outside Airflow there is no task to ask (and importing Airflow here would be slow).
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ctx = CommitContext(dag_id="cli", run_id=f"maintain__{stamp}__{os.getpid()}", source="maintenance")
    reports = maintain(args.table or None, policy, ctx)
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
        return 0
    header = (
        f"{'table':<34} {'files':>13} {'bytes':>23} {'data files':>11} {'compacted':>9} {'expired':>7} {'deleted':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in reports:
        b, a = r.before, r.after
        assert b is not None and a is not None
        print(
            f"{r.table:<34} {b.files:>6}->{a.files:<6} {b.bytes:>11}->{a.bytes:<11} "
            f"{b.data_files:>5}->{a.data_files:<5} {r.partitions_compacted:>9} {r.snapshots_expired:>7} "
            f"{r.orphans_deleted:>7}"
        )
    total = summarize_reports([r.as_dict() for r in reports])
    print(
        f"{len(reports)} table(s){' (dry run: nothing changed)' if args.dry_run else ''}: "
        f"files {total['files_before']} -> {total['files_after']}, bytes {total['bytes_before']} -> "
        f"{total['bytes_after']}"
    )
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "maintain",
        help="compact small files, expire old snapshots and delete unreferenced files (Athena OPTIMIZE/VACUUM on aws)",
    )
    p.add_argument("--table", action="append", help="a table to maintain (repeatable; default: every table)")
    p.add_argument("--retention-days", type=float, default=7.0, help="expire snapshots older than this (default 7)")
    p.add_argument("--retain-last", type=int, default=3, help="always keep main's last N snapshots (default 3)")
    p.add_argument(
        "--orphan-min-age-hours",
        type=float,
        default=3.0,
        help="keep unreferenced files younger than this: they may belong to a write in flight (default 3)",
    )
    p.add_argument("--compact-min-files", type=int, default=8, help="compact a partition with this many small files")
    p.add_argument("--dry-run", action="store_true", help="report what would be done, change nothing")
    p.add_argument("--json", action="store_true", help="print the per-table reports as JSON")
    p.set_defaults(handler=_maintain)
