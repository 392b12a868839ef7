"""``madlake lakehouse init`` and ``madlake sql``: create the lakehouse, query it."""

from __future__ import annotations

import argparse
import sys

from madlake.cli.common import Subparsers, UsageError, json_array


def _lakehouse_init(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    for ident in init_lakehouse():
        print(ident)
    return 0


def _sql(args: argparse.Namespace) -> int:
    from madlake.sql.engine import SqlSyntaxError, format_result, get_engine

    query = sys.stdin.read() if args.query == "-" else args.query
    try:
        result = get_engine(read_only=args.read_only).query(query, args.params)
    except SqlSyntaxError as exc:
        raise UsageError(str(exc)) from None
    print(format_result(result, args.format))
    return 0


def register(sub: Subparsers) -> None:
    lake = sub.add_parser("lakehouse", help="create and inspect the lakehouse").add_subparsers(
        dest="lakehouse_command", required=True
    )
    p = lake.add_parser("init", help="create the namespace and every missing table (idempotent)")
    p.set_defaults(handler=_lakehouse_init)

    p = sub.add_parser("sql", help="run SQL over the tables (DuckDB locally, Athena on aws)")
    p.add_argument("query", help="the SQL text, or - to read it from stdin")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument(
        "--params", type=json_array, help="JSON array of values bound to the ? placeholders, e.g. '[\"duckdb\"]'"
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="queries only (no COPY/INSERT/CREATE/ATTACH/SET), no file access outside the warehouse",
    )
    p.set_defaults(handler=_sql)
