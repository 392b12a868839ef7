"""``madlake catalog export|validate``: the tracked-tools catalog."""

from __future__ import annotations

import argparse
import sys

from madlake.cli.common import Subparsers


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


def register(sub: Subparsers) -> None:
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
