"""``madlake demo``: the whole pipeline on the local profile, from the recorded sources bundled in the package.

Each pipeline adds its steps to :data:`DEMO_STEPS`; the demo runs them in order through Airflow (``dag.test``) and
ends by printing where the results are.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from madlake.names import Dag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoStep:
    dag_id: str
    days: tuple[date | None, ...] = (None,)
    conf: dict[str, Any] = field(default_factory=dict)
    note: str = ""


#: The days the Reddit replay has recorded r/LocalLLaMA listings for (``madlake reddit replay-days``).
REDDIT_DAYS: tuple[date, ...] = tuple(
    date(2025, m, d)
    for m, days in ((7, (2, 3, 4, *range(6, 14), 15, 16, *range(19, 32))), (8, range(1, 9)))
    for d in days
)

#: The demo, in dependency order. Days are those the bundled replay data covers.
DEMO_STEPS: list[DemoStep] = [
    DemoStep(Dag.TOOLS_CATALOG, note="tables + dim_tools"),
    DemoStep(
        Dag.PYPI_MONTHLY,
        conf={"start": "2018-02-01", "end": "2026-04-30"},
        note="every top-pypi-packages snapshot 2018-02 .. 2026-04 (real monthly downloads, tracked projects)",
    ),
    DemoStep(
        Dag.GITHUB_HISTORY,
        conf={"start": "2018-12-18", "end": "2026-08-22"},
        note="daily GitHub figures 2018-12-18 .. 2026-08-22 (Github-Ranking) + monthly best-of snapshots",
    ),
    DemoStep(Dag.GITHUB_METRICS, days=(date(2026, 8, 22),), note="repo snapshots (replay of real 2026-08-22 figures)"),
    DemoStep(
        Dag.REDDIT_INGEST,
        days=REDDIT_DAYS,
        note="real r/LocalLLaMA listings + comment trees of each recorded day, replayed through praw",
    ),
    DemoStep(
        Dag.REDDIT_LOAD,
        conf={"start": REDDIT_DAYS[0].isoformat(), "end": REDDIT_DAYS[-1].isoformat()},
        note="merge the landings of all those days into reddit_submissions/comments (one merge per table)",
    ),
    DemoStep(
        Dag.REDDIT_ARCHIVE_BACKFILL,
        conf={"subreddit": "dataengineering", "start": "2021-06-01", "end": "2022-12-31", "recorded_threads": True},
        note="r/dataengineering salary threads 2021-06 .. 2022-06 through the archive (zstd NDJSON) path",
    ),
    DemoStep(
        Dag.REDDIT_MENTIONS,
        conf={"method": "lexicon"},
        note="tool mentions + offline AFINN sentiment for every item loaded since the last run",
    ),
    DemoStep(
        Dag.GOLD_METRICS,
        conf={"start": "2025-06-01", "end": "2026-08-22", "monthly_start": "2018-02-01"},
        note="gold: every month 2018-02 .. 2026-08 (monthly metrics, popularity index v2); daily tables from 2025-06",
    ),
    # After gold_metrics: source_freshness, then the static dashboard from the gold tables (path printed at the end).
    DemoStep(Dag.DASHBOARD_PUBLISH, note="source_freshness + static dashboard site from the gold tables"),
    # Keep last: compacts what the steps above wrote and reports files/bytes before and after.
    DemoStep(Dag.LAKEHOUSE_MAINTENANCE, note="compaction, snapshot expiry, unreferenced files"),
]


#: ``"module:function"`` hooks run after the pipeline; each returns lines to print (dashboard path, answers, ...).
DEMO_REPORTS: list[str] = [
    "madlake.pipelines.reddit:demo_report",
    "madlake.pipelines.mentions:demo_report",
    "madlake.pipelines.pypi:demo_report",
    "madlake.metrics.ask:demo_report",
    "madlake.watchlists.report:demo_report",
    # Last: the demo ends with the dashboard's path and the short answers to the MAD questions.
    "madlake.dashboard.tasks:demo_report",
]


@contextlib.contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """Send everything written to stdout/stderr (Airflow's task logs included) to ``log_file``, at the fd level."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_demo() -> None:
    """Run every demo step through Airflow; task logs go to ``<MADLAKE_HOME>/logs/demo.log``, a progress bar here."""
    from tqdm import tqdm

    from madlake.config import get_settings
    from madlake.orchestration.runner import run_dag

    settings = get_settings()
    log_file = settings.home_dir / "logs" / "demo.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    runs = [(step, day) for step in DEMO_STEPS for day in step.days]
    terminal = os.fdopen(os.dup(2), "w")
    print(f"madlake demo: {len(runs)} DAG runs on the local profile; task logs: {log_file}", file=terminal, flush=True)
    with tqdm(total=len(runs), desc="madlake demo", unit="run", file=terminal) as bar:
        for step, day in runs:
            bar.set_postfix_str(f"{step.dag_id} {day or ''}".strip())
            start = time.perf_counter()
            try:
                with _output_to(log_file):
                    run_dag(step.dag_id, day, conf=step.conf or None)
            except Exception as exc:
                bar.write(f"FAILED {step.dag_id} {day or ''}: {exc}\n(see {log_file})", file=terminal)
                raise
            bar.write(
                f"  ok  {step.dag_id:<26} {day or ''!s:<10} {time.perf_counter() - start:5.1f}s  {step.note}",
                file=terminal,
            )
            bar.update()
    terminal.close()
    print()
    print(f"Lakehouse:      {settings.home_dir}  (Iceberg SQL catalog: {settings.home_dir / 'catalog.db'})")
    print(f"Warehouse:      {settings.warehouse_uri}")
    print(f"Task logs:      {log_file}")
    print('Query it:       .venv/bin/madlake sql "select count(*) from dim_tools"')
    _print_table_counts(settings)
    for hook in DEMO_REPORTS:
        module_name, _, func = hook.partition(":")
        for line in getattr(importlib.import_module(module_name), func)():
            print(line)


def _print_table_counts(settings: Any) -> None:
    from madlake.sql.engine import LocalEngine

    engine = LocalEngine(settings)
    print("\nTables (rows):")
    for name in engine.available_tables():
        count = engine.query(f'select count(*) as n from "{name}"').column(0)[0].as_py()
        print(f"  {name:<28} {count:>9,}")


def _cmd(args: argparse.Namespace) -> int:
    run_demo()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the local profile from bundled recorded data")
    p.set_defaults(handler=_cmd)
