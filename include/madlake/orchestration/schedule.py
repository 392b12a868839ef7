"""Start dates and catch-up per profile, so that unpausing a DAG never schedules runs that are bound to fail.

Read at DAG parse time: environment variables and one directory listing (file names only, no file is opened).

* **local profile / replay mode**: a daily source DAG starts on the replay's first recorded day and ``catchup`` is
  off. Unpausing schedules only the latest interval (yesterday), which the replay does not cover: that run is
  *skipped* with a message naming the coverage, never failed or retried (see
  :func:`madlake.orchestration.runtime.require_replay_day`; a gap inside the coverage is skipped the same way). The
  recorded days are loaded by a backfill (UI *Trigger -> Backfill*, ``madlake backfill``) or a manual trigger with
  a ``date``. There is no ``end_date`` on purpose: Airflow would leave a manual run dated after it waiting forever.
* **aws profile / live mode**: ``start_date`` is :data:`LIVE_START` (or ``MADLAKE_START_DATE``), ``catchup`` is on
  (``MADLAKE_CATCHUP=false`` turns it off) and there is no end. The catch-up runs of ``pypi_downloads`` query BigQuery
  under the tighter byte cap ``MADLAKE_PYPI_CATCHUP_MAX_BYTES`` (:func:`catchup_byte_cap`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

#: Fixed start of DAGs that are not backfilled by day (snapshots, asset-triggered, manual); as before.
START_DATE = datetime(2024, 1, 1)

#: The documented first day of scheduled live loads on the aws profile: a catch-up from here is ~a month of
#: BigQuery days at ~1-3 GB each. Earlier history comes from a backfill chosen on purpose (``MADLAKE_START_DATE``).
LIVE_START = datetime(2026, 11, 1)

#: The first day of EvanLi/Github-Ranking's daily files: ``github_history``'s start date and the first day it loads.
GITHUB_HISTORY_START = date(2018, 12, 18)

#: Days of star history a ``github_star_history`` run (or ``madlake github stars``) covers when no ``since`` is given.
STAR_HISTORY_DAYS = 90

#: Default byte cap of one catch-up (or backfill) BigQuery day (10 GB; a normal day scans 1-3 GB).
DEFAULT_CATCHUP_MAX_BYTES = 10 * 1024**3


@dataclass(frozen=True)
class Window:
    """When a daily DAG's scheduled runs start, and whether the scheduler catches up past intervals."""

    start_date: datetime
    catchup: bool
    reason: str


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def profile() -> str:
    return _env("MADLAKE_PROFILE") or "local"


def source_mode() -> str:
    """``replay`` or ``live`` as the settings would resolve it (replay on local, live on aws, unless set)."""
    return _env("MADLAKE_SOURCE_MODE") or ("replay" if profile() == "local" else "live")


def replay_dir() -> Path:
    from_env = _env("MADLAKE_REPLAY_DIR")
    if from_env:
        return Path(from_env).expanduser()
    return Path(__file__).resolve().parents[1] / "replay"


def replay_days(source: str) -> list[date]:
    """The days with a daily replay file ``<replay>/<source>/<YYYY-MM-DD>.jsonl[.gz]`` (names only), sorted."""
    days = set()
    folder = replay_dir() / source
    if folder.is_dir():
        for p in folder.iterdir():
            stem = p.name.split(".jsonl")[0]
            if stem == p.name:
                continue
            try:
                days.add(date.fromisoformat(stem))
            except ValueError:
                continue
    return sorted(days)


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def daily_window(source: str) -> Window:
    """The schedule window of a DAG loading one day of ``source`` per run (see the module docstring)."""
    if source_mode() == "replay":
        days = replay_days(source)
        if not days:
            return Window(_midnight(START_DATE.date()), False, f"no {source} replay files")
        return Window(_midnight(days[0]), False, f"replay covers {days[0]}..{days[-1]} ({len(days)} days)")
    start = _env("MADLAKE_START_DATE")
    start_dt = _midnight(date.fromisoformat(start)) if start else _midnight(LIVE_START.date())
    catchup = _env("MADLAKE_CATCHUP").lower() not in ("0", "false", "no", "off")
    return Window(start_dt, catchup, f"live from {start_dt.date()}, catchup {'on' if catchup else 'off'}")


def catchup_byte_cap() -> int:
    """Byte cap for one BigQuery day of a catch-up or backfill run (``MADLAKE_PYPI_CATCHUP_MAX_BYTES``)."""
    value = _env("MADLAKE_PYPI_CATCHUP_MAX_BYTES")
    return int(value) if value else DEFAULT_CATCHUP_MAX_BYTES
