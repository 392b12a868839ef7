"""Gold metrics: the daily rebuild must cost the same with 8 years of history as with 1 month (ratio <= 1.2).

Two local lakehouses of generated sample data (every catalog tool, labeled sample): one with 1 month of sources and
gold; one with 8 years: monthly PyPI snapshots and daily GitHub history from 2018-02 (shaped like
``pypi_downloads_monthly`` / ``github_repo_history``, source ``*-sample``), 3 years of daily sources, and gold for
every day and month. Both have old snapshots expired as ``lakehouse_maintenance`` leaves them (monthly tags kept).
In each, the daily run for the last day (recompute, audit, publish the daily gold tables of the day and the monthly
tables of this month and the last) is timed ``REPEATS`` times, interleaved; the medians are compared. For scale, the
backfill times and the rows each run reads are printed.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

END = date(2026, 3, 31)
HISTORY_START = date(2018, 2, 1)
REPEATS = 5
TARGET_RATIO = 1.2


def _use(home: Path) -> None:
    from madlake.lakehouse.catalog import reset_catalog_cache

    os.environ["MADLAKE_HOME"] = str(home)
    os.environ["MADLAKE_PROFILE"] = "local"
    reset_catalog_cache()


def _write_history(first_month: date) -> None:
    """Generated monthly history, labeled sample: one PyPI snapshot per month for every tracked project (a few below
    the list) and a daily GitHub figure for every tracked repository, from ``first_month`` to ``END``."""
    import zlib
    from datetime import UTC, datetime

    from madlake.catalog import load_catalog
    from madlake.lakehouse.tables import ensure_table
    from madlake.lakehouse.writes import rows_to_arrow
    from madlake.names import Table
    from madlake.pipelines.gold import _add_months, month_chunks
    from madlake.tables import get_spec

    catalog = load_catalog()
    now = datetime(2026, 4, 2, tzinfo=UTC)
    seed = {p: zlib.crc32(p.encode()) for p in [*catalog.pypi_projects(), *catalog.github_repos()]}
    snapshots, month = [], first_month
    while month <= END:
        k = (month.year - 2018) * 12 + month.month
        snap = _add_months(month, 1)
        method = "pip-30d" if snap <= date(2024, 11, 1) else "calendar-month"
        for project in catalog.pypi_projects():
            n = (seed[project] % 10**6) * (1 + k / 50)
            below = seed[project] % 7 == 0
            snapshots.append({
                "month": month, "project": project, "downloads": None if below else int(n), "list_size": 8000,
                "list_min_downloads": 1000, "below_list": below, "window_days": 30, "installers": "all",
                "method": method, "snapshot_date": snap, "source": "replay-sample", "loaded_at": now,
            })  # fmt: skip
        month = _add_months(month, 1)
    table = ensure_table(get_spec(Table.PYPI_DOWNLOADS_MONTHLY))
    table.append(rows_to_arrow(table, snapshots))
    history = ensure_table(get_spec(Table.GITHUB_REPO_HISTORY))
    for s, _ in month_chunks(first_month, END)[::12]:  # one commit per year
        rows = []
        day = s
        while day <= END and day < _add_months(s, 12):
            for repo, tool in catalog.github_repos().items():
                stars = (seed[repo] % 50_000) + (day - first_month).days * (seed[repo] % 13)
                rows.append({
                    "day": day, "repo": repo, "tool_id": tool, "listed_as": repo, "stars": stars, "forks": stars // 9,
                    "source": "github-ranking-sample", "loaded_at": now,
                })  # fmt: skip
            day += timedelta(days=1)
        history.append(rows_to_arrow(history, rows))


def _build(home: Path, start: date, history_from: date | None = None) -> dict[str, float]:
    from madlake.pipelines.gold import build_gold, build_gold_months, month_chunks
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools

    from bench.synth.gold_sources import write_sample_sources

    _use(home)
    init_lakehouse()
    load_dim_tools()
    t0 = time.perf_counter()
    # Sources land month by month, as the daily ingests would leave them (one commit per month here).
    for s, e in month_chunks(start, END):
        write_sample_sources(s, e)
    if history_from:
        _write_history(history_from)
    t1 = time.perf_counter()
    if history_from:
        build_gold_months(history_from, END.replace(day=1), newest_day=END - timedelta(days=1))
    build_gold(END, start=start, end=END - timedelta(days=1))
    t2 = time.perf_counter()
    return {"sources_s": t1 - t0, "gold_backfill_s": t2 - t1}


def _maintain(home: Path) -> None:
    """Expire old snapshots (tags kept) as the ``lakehouse_maintenance`` DAG does, so both lakehouses are in steady
    state: table metadata then holds the monthly tags plus recent snapshots, not every backfill commit."""
    from madlake.ops.maintenance import MaintenancePolicy, expire_snapshots
    from madlake.pipelines.tools import init_lakehouse

    _use(home)
    policy = MaintenancePolicy(snapshot_retention=timedelta(0), retain_last=3)
    from madlake.lakehouse.tables import load_table

    for name in init_lakehouse():
        expire_snapshots(load_table(name.split(".")[-1]), policy)


def _daily_once(home: Path, phases: dict[str, list[float]] | None = None) -> float:
    from madlake.pipelines.gold import build_gold

    _use(home)
    t = time.perf_counter()
    summary = build_gold(END, start=END, end=END, follow_late=False)
    elapsed = time.perf_counter() - t
    if phases is not None:
        for k, v in summary["seconds"].items():
            phases.setdefault(k, []).append(v)
    return elapsed


def _rows_read(home: Path) -> dict[str, int]:
    from madlake.metrics.runner import MONTHLY_READ_WINDOWS, MONTHLY_STAGES, STAGES, LocalSession

    _use(home)
    with LocalSession(END, END) as session:
        for stage in STAGES:
            for mart in stage:
                session.run(mart)
        read = dict(session.rows_read)
    # the two months a daily run rebuilds
    with LocalSession(
        (END.replace(day=1) - timedelta(days=1)).replace(day=1), END, read_windows=MONTHLY_READ_WINDOWS
    ) as session:
        for stage in MONTHLY_STAGES:
            for mart in stage:
                session.run(mart)
        read |= {f"{k} (monthly)": v for k, v in session.rows_read.items()}
    return read


def main() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("madlake", "pyiceberg", "airflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import shutil

    saved = {k: os.environ.get(k) for k in ("MADLAKE_HOME", "MADLAKE_PROFILE")}
    root = Path(tempfile.mkdtemp(prefix="bench-gold-"))
    try:
        month_setup = _build(root / "one_month", END - timedelta(days=30))
        years_setup = _build(root / "eight_years", END - timedelta(days=3 * 365), history_from=HISTORY_START)
        for home in (root / "one_month", root / "eight_years"):
            _maintain(home)
            _daily_once(home)  # warm-up: imports, first registrations
        base_runs, big_runs = [], []
        base_phases: dict[str, list[float]] = {}
        big_phases: dict[str, list[float]] = {}
        for _ in range(REPEATS):  # interleaved, so both sides see the same machine load
            base_runs.append(_daily_once(root / "one_month", base_phases))
            big_runs.append(_daily_once(root / "eight_years", big_phases))
        base, big = statistics.median(base_runs), statistics.median(big_runs)
        base_read, big_read = _rows_read(root / "one_month"), _rows_read(root / "eight_years")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    ratio = big / base
    print(
        "generated sample data, every catalog tool; daily run = recompute + audit + publish the daily gold tables "
        "(1 day) and the monthly ones (2 months)"
    )
    print(
        f"setup 1 month : sources {month_setup['sources_s']:.1f}s, gold backfill {month_setup['gold_backfill_s']:.1f}s"
    )
    print(
        f"setup 8 years : sources {years_setup['sources_s']:.1f}s, gold backfill {years_setup['gold_backfill_s']:.1f}s"
    )
    print(f"daily rebuild, 1 month of history : median {base:.2f}s  runs {', '.join(f'{t:.2f}' for t in base_runs)}")
    print(f"daily rebuild, 8 years of history : median {big:.2f}s  runs {', '.join(f'{t:.2f}' for t in big_runs)}")
    print("phase medians (s)   " + "  ".join(f"{k:>9}" for k in base_phases))
    print("  1 month of history " + "  ".join(f"{statistics.median(v):9.3f}" for v in base_phases.values()))
    print("  8 years of history " + "  ".join(f"{statistics.median(big_phases[k]):9.3f}" for k in base_phases))
    print(f"rows read, 1 month : {base_read}")
    print(f"rows read, 8 years : {big_read}")
    print(
        f"ratio 8 years / 1 month = {ratio:.2f} (target <= {TARGET_RATIO})  "
        f"{'OK' if ratio <= TARGET_RATIO else 'ABOVE TARGET'}"
    )
    print(f"8-year backfill / one daily run = {years_setup['gold_backfill_s'] / big:.0f}x")
    if ratio > TARGET_RATIO:
        # Reported, not raised: the figures above say which phase grew. Known causes at 3 years: the 36 monthly tags
        # kept in each gold table's metadata (pyiceberg copies the metadata ~25 times per commit: "write"), the
        # 90/365-day windows that 1 month of history does not fill yet, and a source table whose manifests are merged
        # into one (its scan planning evaluates every file entry: "read").
        print(f"NOTE: ratio above the {TARGET_RATIO} target; see the phase medians for where the time goes")


if __name__ == "__main__":
    main()
