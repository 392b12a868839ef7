"""``madlake demo``: the whole pipeline on the local profile, from the recorded sources bundled in the package.

Each pipeline adds its steps to :data:`DEMO_STEPS`; the demo runs them in order through Airflow (``dag.test``) and
ends by printing where the results are.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from madlake.names import Dag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoStep:
    dag_id: str
    days: tuple[date | None, ...] = (None,)
    conf: dict[str, Any] = field(default_factory=dict)
    note: str = ""


#: The demo, in dependency order. Days are those the bundled replay data covers.
DEMO_STEPS: list[DemoStep] = [
    DemoStep(Dag.TOOLS_CATALOG, note="tables + dim_tools"),
    DemoStep(Dag.GITHUB_METRICS, days=(date(2026, 8, 22),), note="repo snapshots (replay of real 2026-08-22 figures)"),
    DemoStep(Dag.GITHUB_STAR_HISTORY, conf={"since": "2026-05-25", "date": "2026-08-22"},
             note="daily stars 2026-05-25..2026-08-22 (sample stargazers from real daily totals)"),
    # Keep last: compacts what the steps above wrote and reports files/bytes before and after.
    DemoStep(Dag.LAKEHOUSE_MAINTENANCE, note="compaction, snapshot expiry, unreferenced files"),
]


def run_demo() -> None:
    from tqdm import tqdm

    from madlake.config import get_settings
    from madlake.orchestration.runner import run_dag

    settings = get_settings()
    runs = [(step, day) for step in DEMO_STEPS for day in step.days]
    with tqdm(total=len(runs), desc="madlake demo", unit="run") as bar:
        for step, day in runs:
            bar.set_postfix_str(f"{step.dag_id} {day or ''}".strip())
            run_dag(step.dag_id, day, conf=step.conf or None)
            bar.update()
    print()
    print(f"Lakehouse:      {settings.home_dir}  (Iceberg SQL catalog: {settings.home_dir / 'catalog.db'})")
    print(f"Warehouse:      {settings.warehouse_uri}")
    print('Query it:       .venv/bin/madlake sql "select count(*) from dim_tools"')
    _print_extras(settings)


def _print_extras(settings: Any) -> None:
    """Hooks for later stages (dashboard path, answers) print here."""
    from madlake.sql.engine import get_engine

    engine = get_engine(settings)
    for name in ("dim_tools",):
        count = engine.query(f'select count(*) as n from "{name}"').column(0)[0].as_py()
        print(f"{name}: {count} rows")


def _cmd(args: argparse.Namespace) -> int:
    run_demo()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the local profile from bundled recorded data")
    p.set_defaults(handler=_cmd)
