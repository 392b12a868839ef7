"""``madlake demo``: the whole pipeline on the local profile from bundled recorded data (see :mod:`madlake.demo`)."""

from __future__ import annotations

import argparse

from madlake.cli.common import Subparsers


def _cmd(args: argparse.Namespace) -> int:
    from madlake.demo import run_demo

    run_demo()
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the local profile from bundled recorded data")
    p.set_defaults(handler=_cmd)
