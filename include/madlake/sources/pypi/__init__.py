"""PyPI download aggregates for the tracked projects, one day at a time.

Three ways to get a day, one output shape (the ``pypi_downloads`` columns):

* ``bigquery`` (live): ``bigquery-public-data.pypi.file_downloads`` through google-cloud-bigquery, credentials from the
  Airflow connection ``madlake_bigquery``; a dry run logs the bytes first and ``maximum_bytes_billed`` caps the job.
* ``clickpy`` (live, no GCP account): ClickHouse's public PyPI dataset over its HTTP interface; no Python/OS/CI split.
* replay (local profile, tests): ``$MADLAKE_REPLAY_DIR/pypi/<YYYY-MM-DD>.jsonl``, the query's result rows of that day.

:func:`fetch_day` picks one from the settings. Not imported at DAG parse time (tasks import it in their bodies).
"""

from __future__ import annotations

from datetime import date

from madlake.config import Settings, get_settings
from madlake.sources.pypi.bigquery import fetch_day as bigquery_fetch
from madlake.sources.pypi.clickpy import fetch_day as clickpy_fetch
from madlake.sources.pypi.models import DownloadRow, FetchResult, parse_rows
from madlake.sources.pypi.replay import read_day
from madlake.sources.pypi.settings import PypiSettings, get_pypi_settings

__all__ = ["DownloadRow", "FetchResult", "PypiSettings", "fetch_day", "get_pypi_settings", "parse_rows"]


def fetch_day(
    day: date,
    projects: list[str],
    *,
    settings: Settings | None = None,
    pypi_settings: PypiSettings | None = None,
) -> FetchResult:
    """The raw result rows of ``day`` for ``projects`` from the configured source (see the module docstring).

    Raises:
        FileNotFoundError: replay mode and the day's file is missing (the message names the file).
        madlake.sources.pypi.bigquery.BytesCapExceededError: the BigQuery dry run estimates more than the cap.
        RuntimeError / httpx.HTTPError / google.api_core.exceptions.GoogleAPIError: the live source failed; nothing
            was written, so the task can simply be retried.
    """
    settings = settings or get_settings()
    pypi_settings = pypi_settings or get_pypi_settings()
    if settings.effective_source_mode == "replay":
        return read_day(settings.replay_path("pypi"), day)
    if pypi_settings.source == "clickpy":
        return clickpy_fetch(day, projects, pypi_settings)

    return bigquery_fetch(day, projects, pypi_settings)
