"""``madlake reddit ingest|load|backfill|replay-days|threads-to-archive``: the Reddit pipelines without Airflow."""

from __future__ import annotations

import argparse
from datetime import date

from madlake.cli.common import Subparsers, csv_list
from madlake.orchestration.request import RunRequest


def _cmd_range(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    from madlake.pipelines.reddit_load import backfill_range

    rows = backfill_range(
        start,
        end,
        ingest_days=args.reddit_command in ("ingest", "backfill"),
        load_days=args.reddit_command in ("load", "backfill"),
        subreddits=csv_list(args.subreddits) or None,
        mode=args.source_mode,
        request=RunRequest.for_cli("reddit", start=start, end=end),
    )
    landed = [r for r in rows if r.get("landing") or r.get("submissions")]
    failed = [r for r in rows if r.get("error")]
    for r in rows:
        if r.get("error"):
            text = f"FAILED {r['error']}"
        elif args.reddit_command != "load" and not r.get("landing"):
            text = "nothing recorded: nothing landed"
        else:
            text = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("day", "landing"))
        print(f"{r['day']}: {text}")
    print(
        f"{len(rows)} day(s): {len(landed)} with data, {len(rows) - len(landed) - len(failed)} empty, "
        f"{len(failed)} failed"
    )
    return 1 if failed else 0


def _cmd_days(args: argparse.Namespace) -> int:
    from madlake.config import get_settings
    from madlake.sources.reddit.history import list_captures

    captures = list_captures(get_settings().replay_path("reddit"))
    days = sorted({c.at.date() for c in captures})
    span = f": {days[0]} .. {days[-1]}" if days else ""
    print(f"{len(days)} recorded days, {len(captures)} listing captures{span}")
    return 0


def _cmd_threads_to_archive(args: argparse.Namespace) -> int:
    from madlake.config import get_settings
    from madlake.pipelines.reddit_archive import default_thread_files
    from madlake.sources.reddit.archive import threads_to_archive

    files = list(args.files) or default_thread_files(get_settings().replay_path("reddit"))
    if not files:
        raise FileNotFoundError("no recorded thread files given or found in the Reddit replay folder")
    for name, n in threads_to_archive(files, args.out).items():
        print(f"{args.out}/{name}: {n} record(s)")
    return 0


def register(sub: Subparsers) -> None:
    """Add ``madlake reddit ...`` (cheap: no heavy imports until a command runs)."""
    group = sub.add_parser("reddit", help="Reddit: ingest/load day ranges, recorded days, threads → archive dumps")
    cmds = group.add_subparsers(dest="reddit_command", required=True)
    for name, help_text in (
        ("ingest", "land days START..END (inclusive) through the reddit_ingest code path"),
        ("load", "merge the landings of days START..END through the reddit_load code path"),
        ("backfill", "ingest then load each day of START..END"),
    ):
        p = cmds.add_parser(name, help=help_text)
        p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        p.add_argument("--end", help="last day, YYYY-MM-DD (default: START)")
        p.add_argument("--subreddits", help="comma-separated (default: the tracked list)")
        p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
        p.set_defaults(handler=_cmd_range)
    p = cmds.add_parser("replay-days", help="which days the Reddit replay folder has recorded listings for")
    p.set_defaults(handler=_cmd_days)
    p = cmds.add_parser(
        "threads-to-archive", help="write recorded /comments threads as <subreddit>_{submissions,comments}.zst dumps"
    )
    p.add_argument("--out", required=True, help="folder for the dumps (then: reddit_archive_backfill archive=OUT)")
    p.add_argument("files", nargs="*", help="thread files (.json/.json.gz); default: the replay's salary threads")
    p.set_defaults(handler=_cmd_threads_to_archive)
