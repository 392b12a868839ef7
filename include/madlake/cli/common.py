"""What every ``madlake`` command module shares: argument types, the usage error, the sub-parser type."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from typing import Any, TypeAlias

#: What a command module's ``register`` receives: the top-level parser's sub-parsers.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

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


def csv_list(value: str | None) -> list[str]:
    """A comma-separated option as a list of non-empty, stripped strings."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]
