"""``madlake dashboard``: build the site by hand, or fill a scratch lakehouse with sample gold data to look at it.

madlake dashboard build [--out DIR]        # build from the gold tables and publish (default target) or write to DIR
madlake dashboard sample [--tools N] [--years Y]   # SAMPLE gold data (refuses to overwrite real gold rows)
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any


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


def _sample(args: argparse.Namespace) -> int:
    from madlake.dashboard import sample

    end = date.fromisoformat(args.end) if args.end else date.today() - timedelta(days=1)
    start = end - timedelta(days=round(365.25 * args.years) - 1)
    tools = sample.pick_tools(args.tools)
    gold = sample.generate_sample_gold(tools, start, end)
    sample.load_sample_dim_tools(tools)
    rows = sample.write_sample_gold(gold)
    print(
        f"SAMPLE gold data for {len(tools)} tools, {start}..{end}: " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="build the static dashboard, or write sample gold data to look at it")
    cmds = p.add_subparsers(dest="dashboard_command", required=True)
    b = cmds.add_parser("build", help="build the site from the gold tables and publish it (or write it to --out)")
    b.add_argument("--out", help="write the site to this folder instead of publishing it")
    b.set_defaults(handler=_build)
    s = cmds.add_parser("sample", help="replace the gold tables with generated SAMPLE data (never over real rows)")
    s.add_argument("--tools", type=int, default=113, help="how many catalog tools (default 113)")
    s.add_argument("--years", type=float, default=3.0, help="years of daily history (default 3)")
    s.add_argument("--end", help="last day (YYYY-MM-DD; default yesterday)")
    s.set_defaults(handler=_sample)
