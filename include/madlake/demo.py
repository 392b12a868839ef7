"""``madlake demo``: the whole pipeline on the local profile, from the recorded sources bundled in the package.

The demo runs :data:`DEMO_STEPS` in order through Airflow (``dag.test``), then prints where the results are and the
reports of :func:`demo_reports` (what loaded, and the answers to the MAD questions). The command is
``madlake demo`` (:mod:`madlake.cli.demo`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from madlake.config import get_settings
from madlake.dashboard import tasks as dashboard_tasks
from madlake.metrics import ask
from madlake.names import Dag, Table
from madlake.orchestration.runner import run_dag
from madlake.sql.engine import LocalEngine, get_engine

if TYPE_CHECKING:
    from madlake.config import Settings

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
    for report in demo_reports():
        for line in report():
            print(line)


def _print_table_counts(settings: Settings) -> None:

    engine = LocalEngine(settings)
    print("\nTables (rows):")
    for name in engine.available_tables():
        count = engine.query(f'select count(*) as n from "{name}"').column(0)[0].as_py()
        print(f"  {name:<28} {count:>9,}")


# --------------------------------------------------------------------------------------------------------------------
# Reports: what the demo prints after the runs
# --------------------------------------------------------------------------------------------------------------------


def reddit_report() -> list[str]:
    """Lines ``madlake demo`` prints about Reddit: what loaded, per subreddit, and what was rejected."""
    engine = get_engine()
    lines = ["Reddit (replayed real API responses):"]
    per_sub = engine.query(
        "select s.subreddit, count(distinct s.id) as posts, count(c.id) as comments "
        "from reddit_submissions s left join reddit_comments c on c.link_id = s.fullname "
        "group by s.subreddit order by s.subreddit"
    ).to_pylist()
    for r in per_sub:
        lines.append(f"  r/{r['subreddit']:<18} {r['posts']:>4} posts {r['comments']:>5} comments")
    dead = engine.query("select count(*) as n from rejected_records where source like 'reddit%'").to_pylist()[0]["n"]
    lines.append(
        f'  rejected records: {dead}   try: madlake sql "select title, score, num_comments from '
        'reddit_submissions order by score desc limit 5"'
    )
    return lines


def mentions_report() -> list[str]:
    """Lines ``madlake demo`` prints about mentions: the most mentioned tools and their mean sentiment."""
    engine = get_engine()
    top = engine.query(
        "select tool_id, count(*) as items, sum(mention_count) as mentions, avg(sentiment_score) as sentiment, "
        "min(method) as method from reddit_mentions group by tool_id order by items desc, tool_id limit 8"
    ).to_pylist()
    lines = ["Tool mentions in the Reddit items (offline lexicon sentiment unless method says llm):"]
    for r in top:
        lines.append(f"  {r['tool_id']:<20} {r['items']:>4} items {r['mentions']:>4} mentions "
                     f"sentiment {r['sentiment']:+.2f} ({r['method']})")  # fmt: skip
    lines.append('  try: madlake sql "select tool_id, sentiment_label, count(*) from reddit_mentions group by 1, 2"')
    return lines


def pypi_report() -> list[str]:
    """Lines for ``madlake demo``: the loaded range and the top packages of the last day (labelled sample data)."""
    engine = LocalEngine()
    if Table.PYPI_DOWNLOADS not in engine.available_tables():
        return []
    span = engine.query(
        "select min(download_date) as first, max(download_date) as last, count(distinct download_date) as days, "
        "bool_or(source = 'replay-sample') as sample from pypi_downloads"
    ).to_pylist()[0]
    if not span["days"]:
        return []
    top = engine.query(
        "select project, sum(downloads) as downloads from pypi_downloads where download_date = ? "
        "group by project order by downloads desc limit 5",
        [span["last"]],
    ).to_pylist()
    label = " (sample data)" if span["sample"] else ""
    lines = [f"\nPyPI downloads{label}: {span['days']} days, {span['first']} .. {span['last']}; top on {span['last']}:"]
    lines += [f"  {r['project']:<28} {r['downloads']:>12,}" for r in top]
    return lines


def demo_reports() -> tuple[Callable[[], list[str]], ...]:
    """The reports printed after the pipeline, in order; each returns lines (what loaded, the answers, the path).

    The watchlist report is imported here, not at the top: its module imports Airflow, which must not be imported
    before :func:`madlake.orchestration.runner.prepare_environment` has pointed it at the demo's home.
    """
    from madlake.watchlists import report as watchlists_report

    return (
        reddit_report,
        mentions_report,
        pypi_report,
        ask.demo_report,
        watchlists_report.demo_report,
        # Last: the demo ends with the dashboard's path and the short answers to the MAD questions.
        dashboard_tasks.demo_report,
    )
