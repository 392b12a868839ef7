"""The ``madlake`` command line: ``madlake --help`` lists the commands.

Each command group lives with its domain and registers itself here through ``register(subparsers)``; keep this
module free of heavy imports so ``madlake --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

log = logging.getLogger("madlake")

#: Modules that add command groups (each defines ``register(subparsers) -> None``).
_COMMAND_MODULES: tuple[str, ...] = (
    "madlake.demo",
    "madlake.mentions.cli",
    "madlake.ops.cli",
    "madlake.metrics.ask",
    "madlake.pipelines.pypi",
    "madlake.pipelines.github",
    "madlake.pipelines.github_history",
    "madlake.pipelines.reddit",
    "madlake.dashboard.cli",
    "madlake.orchestration.setup",
    "madlake.orchestration.backfill",
    "madlake.watchlists.cli",
)

Handler = Callable[[argparse.Namespace], int]

#: Exit codes: 1 when a command failed, 2 when its input was wrong (argparse's own code for usage errors).
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(ValueError):
    """The command's input is wrong (a value that does not parse, a query that is not SQL): exit code 2."""


def iso_date(value: str) -> date:
    """argparse type: a ``YYYY-MM-DD`` day; the error echoes the value."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid date {value!r}: expected YYYY-MM-DD ({exc})") from None


def _json_of(kind: type, example: str) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {value[:80]!r}") from None
        if not isinstance(parsed, kind):
            raise argparse.ArgumentTypeError(
                f"must be a JSON {'object' if kind is dict else 'array'} like {example}, "
                f"got {type(parsed).__name__}: {value[:80]!r}"
            )
        return parsed

    parse.__name__ = "JSON object" if kind is dict else "JSON array"
    return parse


json_object = _json_of(dict, '\'{"date": "2026-03-31"}\'')
json_array = _json_of(list, "'[\"duckdb\"]'")


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


def _run(args: argparse.Namespace) -> int:
    from madlake.orchestration.runner import run_dag

    run_id = run_dag(args.dag_id, args.date, conf=args.conf, retries=args.retries)
    print(f"{args.dag_id}: run {run_id} succeeded")
    return 0


def _catalog_export(args: argparse.Namespace) -> int:
    from madlake.catalog import export_catalog, load_catalog

    sys.stdout.write(export_catalog(load_catalog(args.path), args.format))
    if args.format == "json":
        sys.stdout.write("\n")
    return 0


def _catalog_validate(args: argparse.Namespace) -> int:
    from madlake.catalog import load_catalog

    catalog = load_catalog(args.path)
    print(f"ok: {len(catalog.tools)} tools in {len(catalog.categories)} categories")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="madlake", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    p = sub.add_parser("run", help="run a DAG in-process through Airflow (the scheduler's code path)")
    p.add_argument("dag_id")
    p.add_argument("--date", type=iso_date, help="the day the run covers (YYYY-MM-DD); default: a manual run")
    p.add_argument("--conf", type=json_object, help="JSON object of run params")
    p.add_argument("--retries", action="store_true", help="honour task retries (default: fail fast)")
    p.set_defaults(handler=_run)

    cat = sub.add_parser("catalog", help="the tracked-tools catalog").add_subparsers(
        dest="catalog_command", required=True
    )
    p = cat.add_parser("export", help="print the catalog as JSON (array of tools) or CSV (with a header)")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--path", help="a catalog YAML file (default: the packaged one)")
    p.set_defaults(handler=_catalog_export)
    p = cat.add_parser("validate", help="validate a catalog YAML file; errors name the entry")
    p.add_argument("path", nargs="?", help="a catalog YAML file (default: the packaged one)")
    p.set_defaults(handler=_catalog_validate)

    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Any = args.handler
    from madlake.redaction import redact

    try:
        return int(handler(args))
    except UsageError as exc:
        log.debug("bad input", exc_info=True)
        print(f"madlake {args.command}: error: {redact(_one_line(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("madlake: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one clear line; -v shows the traceback
        log.debug("command failed", exc_info=True)
        known = isinstance(exc, KeyError | ValueError | RuntimeError | OSError)
        text = _one_line(exc) if known else f"{type(exc).__name__}: {_one_line(exc)}"
        hint = "" if args.verbose else " (run with -v for the traceback)"
        print(f"madlake {args.command}: error: {redact(text)}{hint if not known else ''}", file=sys.stderr)
        return EXIT_FAILED


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (a KeyError's quotes dropped)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
