"""``madlake airflow setup``: prepare an Airflow deployment for madlake (see :mod:`madlake.orchestration.setup`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from madlake.cli.common import Subparsers


def _cmd_setup(args: argparse.Namespace) -> int:
    from madlake.orchestration.setup import setup_airflow

    report = setup_airflow(Path(args.settings) if args.settings else None, migrate=not args.no_migrate)
    for line in report.lines():
        print(line)
    return 0


def register(sub: Subparsers) -> None:
    group = sub.add_parser("airflow", help="prepare an Airflow deployment for madlake (pools, connections, variables)")
    cmds = group.add_subparsers(dest="airflow_command", required=True)
    p = cmds.add_parser("setup", help="migrate the metadata DB, create the pools, import connections and variables")
    p.add_argument("--settings", help="an airflow_settings.yaml (default: the repository's)")
    p.add_argument("--no-migrate", action="store_true", help="do not migrate the metadata database first")
    p.set_defaults(handler=_cmd_setup)
