"""``madlake dashboard``: build the site by hand.

madlake dashboard build [--out DIR]        # build from the gold tables and publish (default target) or write to DIR

Generated gold for looking at the pages without real data is not part of the package: see ``bench/synth``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from madlake.cli.common import Subparsers


def _build(args: argparse.Namespace) -> int:
    from madlake.dashboard.publish import publish_site
    from madlake.dashboard.site import build_site

    if args.out:
        out = Path(args.out)
        if out.is_dir() and any(out.iterdir()) and not (out / "site.json").is_file():
            from madlake.dashboard.publish import UnsafeTargetError

            # build_site overwrites files by name: never into a folder holding something other than a build
            raise UnsafeTargetError(f"refusing to build into {out}: it is not empty and holds no previous build")
        summary = build_site(out)
        print(
            f"{Path(args.out).resolve() / 'index.html'}  ({len(summary.pages)} pages, data as of {summary.data_date})"
        )
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="madlake-dashboard-") as tmp:
        summary = build_site(Path(tmp) / "site")
        published = publish_site(summary.out_dir)
    print(f"{published.index}  ({len(summary.pages)} pages, data as of {summary.data_date})")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("dashboard", help="build the static dashboard from the gold tables")
    cmds = p.add_subparsers(dest="dashboard_command", required=True)
    b = cmds.add_parser("build", help="build the site from the gold tables and publish it (or write it to --out)")
    b.add_argument("--out", help="write the site to this folder instead of publishing it")
    b.set_defaults(handler=_build)
