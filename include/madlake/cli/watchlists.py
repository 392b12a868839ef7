"""``madlake watchlists``: list the watchlists, compute the events, print a watchlist's newest events, deliver.

madlake watchlists list                            # the watchlists (validated against the catalog)
madlake watchlists build                           # recompute tool_events from the monthly gold tables
madlake watchlists events [--watchlist NAME] [--limit N] [--all]   # newest events (news only unless --all)
madlake watchlists deliver                         # send new events through the watchlists' HTTP connections
"""

from __future__ import annotations

import argparse
import json

from madlake.cli.common import Subparsers


def _list(args: argparse.Namespace) -> int:
    from madlake.watchlists.io import current_watchlists

    wl = current_watchlists()
    for w in wl.watchlists:
        mark = " (default)" if w.name == wl.default_watchlist.name else ""
        scope = ", ".join([*w.categories, *w.tools])
        print(f"{w.name}{mark}: {w.title} [{scope}] events={','.join(w.events)} notify={[d.conn_id for d in w.notify]}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from madlake.orchestration.request import RunRequest
    from madlake.watchlists.events import build_events

    print(json.dumps(build_events(request=RunRequest.for_cli("watchlists")), indent=2))
    return 0


def _events(args: argparse.Namespace) -> int:
    from madlake.watchlists.delivery import read_events
    from madlake.watchlists.io import current_watchlists
    from madlake.watchlists.report import event_lines, newest_events

    wl = current_watchlists()
    w = wl.get(args.watchlist) if args.watchlist else wl.default_watchlist
    rows = newest_events(read_events(), w, limit=args.limit, news_only=not args.all)
    print(f"{w.name}: {w.title}")
    print("\n".join(event_lines(rows)) if rows else "  (no events)")
    return 0


def _deliver(args: argparse.Namespace) -> int:
    from madlake.orchestration.request import RunRequest
    from madlake.watchlists.delivery import deliver
    from madlake.watchlists.io import current_watchlists

    # outside a task the notifier gets an empty context (as the task body did outside Airflow)
    summary = deliver(current_watchlists(), context={}, request=RunRequest.for_cli("watchlists"))
    print(json.dumps(summary, indent=2))
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("watchlists", help="watchlists: events of the tools and categories you watch, feeds, alerts")
    cmds = p.add_subparsers(dest="watchlists_command", required=True)
    cmds.add_parser("list", help="list the watchlists").set_defaults(handler=_list)
    cmds.add_parser("build", help="recompute tool_events from the monthly gold tables").set_defaults(handler=_build)
    e = cmds.add_parser("events", help="print a watchlist's newest events")
    e.add_argument("--watchlist", help="watchlist name (default: the file's default)")
    e.add_argument("--limit", type=int, default=20)
    e.add_argument("--all", action="store_true", help="include method/coverage artefacts")
    e.set_defaults(handler=_events)
    cmds.add_parser("deliver", help="send new events once (watchlist_deliveries)").set_defaults(handler=_deliver)
