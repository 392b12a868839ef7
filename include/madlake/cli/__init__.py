"""The ``madlake`` command line: ``madlake --help`` lists the commands.

One module per command group under ``madlake.cli``, each with ``register(subparsers)``, imported explicitly below.
Keep these modules free of heavy imports (they import their domain inside the command handlers) so
``madlake --help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from madlake.cli import (
    airflow,
    backfill,
    catalog,
    dashboard,
    demo,
    github,
    lakehouse,
    mentions,
    ops,
    pypi,
    reddit,
    run,
    watchlists,
)
from madlake.cli.common import EXIT_FAILED, EXIT_USAGE, UsageError, iso_date, json_array, json_object
from madlake.metrics import ask

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "UsageError", "build_parser", "iso_date", "json_array", "json_object", "main"]

log = logging.getLogger("madlake")

#: The command groups, in ``--help`` order.
_COMMAND_GROUPS = (
    lakehouse,
    run,
    catalog,
    demo,
    mentions,
    ops,
    ask,
    pypi,
    github,
    reddit,
    dashboard,
    airflow,
    backfill,
    watchlists,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="madlake", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler = args.handler
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
