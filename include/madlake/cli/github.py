"""``madlake github snapshot|stars`` and ``madlake github-history load``: the GitHub DAGs' pipelines without Airflow."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from madlake.cli.common import Subparsers
from madlake.orchestration.request import RunRequest
from madlake.orchestration.schedule import GITHUB_HISTORY_START, STAR_HISTORY_DAYS


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from madlake.pipelines.github_snapshots import snapshot_repos

    day = date.fromisoformat(args.date)
    summary = snapshot_repos(day, RunRequest.for_cli("github", day=day), source_mode=args.source_mode)
    calls = summary["calls"]
    print(
        f"{summary['day']}: {summary['rows']} repositories ({summary['renamed']} renamed, {summary['not_modified']} "
        f"unchanged), {summary['rejected']} rejected; {calls['rest_calls']} REST calls ({calls['rest_not_modified']} "
        f"free 304s), {calls['graphql_calls']} GraphQL calls"
    )
    return 0


def _cmd_stars(args: argparse.Namespace) -> int:
    from madlake.pipelines.github_stars import backfill_star_history

    until = date.fromisoformat(args.until) if args.until else (datetime.now(UTC) - timedelta(days=1)).date()
    since = date.fromisoformat(args.since) if args.since else until - timedelta(days=STAR_HISTORY_DAYS - 1)
    request = RunRequest.for_cli("github", start=since, end=until)
    summary = backfill_star_history(
        args.repo or None, since, until, request, source_mode=args.source_mode, restart=args.restart
    )
    print(
        f"{summary['since']}..{summary['until']}: {summary['repos']} repositories, {summary['pages']} pages, "
        f"{summary['days']} days merged ({summary['resumed']} resumed, {summary['skipped']} already complete), "
        f"{summary['rejected']} rejected; {summary['calls']['graphql_calls']} GraphQL calls"
    )
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    from madlake.pipelines.github_history import load_range

    request = RunRequest.for_cli("github_history", start=start, end=end)
    s = load_range(start, end, request, source_mode=args.source_mode, progress=not args.no_progress)
    by_source = ", ".join(f"{k} {v}" for k, v in s["rows_by_source"].items()) or "none"
    print(
        f"github_repo_history {s['start']}..{s['end']} ({s['mode']}): {s['rows']} rows ({by_source}) on "
        f"{s['days_with_rows']} of {s['days']} days from {s['files']} files; {s['rejected']} rejected rows, "
        f"{len(s['bad_files'])} unusable files, {sum(s['untracked'].values())} untracked rows skipped; "
        f"{s['commits']} commit(s) in {s['seconds']['total']:.1f}s"
    )
    for bad in s["bad_files"]:
        print(f"  unusable: {bad}")
    return 0


def _register_github(sub: Subparsers) -> None:
    """Add ``madlake github ...``: the DAGs' task bodies without Airflow (cheap: nothing heavy until a command runs)."""
    group = sub.add_parser("github", help="GitHub: snapshot repositories, backfill star history without Airflow")
    cmds = group.add_subparsers(dest="github_command", required=True)
    p = cmds.add_parser("snapshot", help="snapshot every tracked repository as the rows of DATE (replaces the day)")
    p.add_argument("--date", required=True, help="the snapshot day, YYYY-MM-DD")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_snapshot)
    p = cmds.add_parser("stars", help="backfill daily stars (resumes from checkpoints; merged, never duplicated)")
    p.add_argument("--since", help=f"first day (default: {STAR_HISTORY_DAYS} days back)")
    p.add_argument("--until", help="last day (default: yesterday)")
    p.add_argument("--repo", action="append", help="owner/name (repeatable; default: every tracked repository)")
    p.add_argument("--restart", action="store_true", help="ignore completed checkpoints and redo the window")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_stars)


def _register_history(sub: Subparsers) -> None:
    """Add ``madlake github-history ...`` (cheap: nothing heavy until a command runs)."""
    group = sub.add_parser("github-history", help="GitHub history (Github-Ranking, best-of): load days without Airflow")
    cmds = group.add_subparsers(dest="github_history_command", required=True)
    p = cmds.add_parser("load", help="replace days START..END (inclusive) of github_repo_history, as the DAG does")
    p.add_argument("--start", required=True, help=f"first day, YYYY-MM-DD (the history starts {GITHUB_HISTORY_START})")
    p.add_argument("--end", help="last day, YYYY-MM-DD (default: START)")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_load)


def register(sub: Subparsers) -> None:
    _register_github(sub)
    _register_history(sub)
