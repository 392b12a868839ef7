"""``madlake mentions ...``: the extractor on the command line (also how people test catalog aliases).

``madlake mentions extract [PATH|-]`` reads JSON lines ``{"id": ..., "text": ...}`` from a file or stdin and writes
``{"id": ..., "mentions": [{"tool": <tool id>, "count": n}]}`` per line (an empty list when none) to stdout.
"""

from __future__ import annotations

import argparse
import sys

from madlake.cli.common import Subparsers


def _extract(args: argparse.Namespace) -> int:
    from madlake.catalog import load_catalog
    from madlake.mentions.extract import MentionExtractor, extract_ndjson

    extractor = MentionExtractor.for_catalog(load_catalog(args.catalog) if args.catalog else None)
    try:
        if args.path == "-":
            extract_ndjson(sys.stdin.buffer, sys.stdout.buffer, extractor)
        else:
            with open(args.path, "rb") as fh:
                extract_ndjson(fh, sys.stdout.buffer, extractor)
    except ValueError as exc:
        sys.stderr.write(f"madlake mentions extract: {args.path}: {exc}\n")
        return 2
    return 0


def register(sub: Subparsers) -> None:
    group = sub.add_parser("mentions", help="tool mentions in Reddit text").add_subparsers(
        dest="mentions_command", required=True
    )
    p = group.add_parser(
        "extract",
        help='JSON lines {"id","text"} in, {"id","mentions":[{"tool","count"}]} out (stdin with -)',
    )
    p.add_argument("path", nargs="?", default="-", help="a JSON-lines file, or - for stdin (default)")
    p.add_argument("--catalog", help="a catalog YAML file to test (default: the packaged one)")
    p.set_defaults(handler=_extract)
