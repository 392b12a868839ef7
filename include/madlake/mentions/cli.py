"""``madlake mentions ...``: the extractor on the command line (also how people test catalog aliases).

``madlake mentions extract [PATH|-]`` reads JSON lines ``{"id": ..., "text": ...}`` from a file or stdin and writes
``{"id": ..., "mentions": [{"tool": <tool id>, "count": n}]}`` per line (an empty list when none) to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _extract(args: argparse.Namespace) -> int:
    from madlake.catalog import load_catalog
    from madlake.mentions.extract import MentionExtractor, extract_jsonl

    extractor = MentionExtractor.for_catalog(load_catalog(args.catalog) if args.catalog else None)
    if args.path == "-":
        lines = sys.stdin
        _write(extract_jsonl(lines, extractor))
    else:
        with open(args.path, encoding="utf-8") as fh:
            _write(extract_jsonl(fh, extractor))
    return 0


def _write(records: Any) -> None:
    out = sys.stdout
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


def register(sub: Any) -> None:
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
