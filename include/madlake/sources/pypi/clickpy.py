"""Live source without a GCP account: ClickPy, ClickHouse's public PyPI dataset, over the ClickHouse HTTP interface.

* Endpoint and user: the Airflow connection ``madlake_clickpy`` when defined (``host`` as a URL or a hostname with
  ``schema`` http/https and ``port``, ``login``, optional ``password``), else ``MADLAKE_PYPI_CLICKPY_URL`` /
  ``MADLAKE_PYPI_CLICKPY_USER`` (the public read-only ``https://sql-clickhouse.clickhouse.com``, user ``demo``).
* The query (``pypi_downloads_clickpy.sql``) is POSTed as the body; ``{day:Date}`` and ``{projects:Array(String)}`` are
  ClickHouse query parameters sent as ``param_day`` / ``param_projects`` URL parameters, never pasted into the SQL.
* Output ``JSONEachRow``. ``timeout_overflow_mode=throw``: the public endpoint otherwise answers a query that hits
  its time limit with a *partial* result and HTTP 200; with ``throw`` that is an error instead.
* What ClickPy lacks: Python version, OS and the CI flag (null in the rows, see docs/pypi.md).
* Retries: none here (an HTTP error raises ``httpx.HTTPStatusError`` with ClickHouse's message); the task retries.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import httpx

from madlake.names import Conn
from madlake.sources.pypi.bigquery import load_sql
from madlake.sources.pypi.connection import get_connection
from madlake.sources.pypi.models import FetchResult, Unparseable
from madlake.sources.pypi.settings import PypiSettings

log = logging.getLogger(__name__)


def clickhouse_array(values: list[str]) -> str:
    """A ClickHouse ``Array(String)`` literal for a query *parameter* value (quotes and backslashes escaped)."""
    escaped = (v.replace("\\", "\\\\").replace("'", "\\'") for v in values)
    return "[" + ",".join(f"'{v}'" for v in escaped) + "]"


def endpoint(settings: PypiSettings) -> tuple[str, str, str | None]:
    """``(base_url, user, password)`` from the connection, or the public defaults."""
    conn = get_connection(Conn.CLICKPY, required=False)
    if conn is None or not conn.host:
        return settings.clickpy_url.rstrip("/"), settings.clickpy_user, None
    scheme = conn.schema if conn.schema in ("http", "https") else "https"
    host = conn.host if "://" in conn.host else f"{scheme}://{conn.host}"
    if conn.port:
        host = f"{host.rstrip('/')}:{conn.port}"
    return host.rstrip("/"), conn.login or settings.clickpy_user, conn.password


def fetch_day(day: date, projects: list[str], settings: PypiSettings, *, base_url: str | None = None) -> FetchResult:
    """The day's rows from ClickPy (same columns as the BigQuery query; Python/OS/CI null).

    Raises:
        httpx.HTTPError: the request failed or ClickHouse answered an error (its message is included).
    """
    url, user, password = endpoint(settings)
    url = base_url or url
    params: dict[str, Any] = {
        "user": user,
        "default_format": "JSONEachRow",
        "param_day": day.isoformat(),
        "param_projects": clickhouse_array(sorted(projects)),
        "timeout_overflow_mode": "throw",
        "max_execution_time": str(int(settings.query_timeout_s)),
    }
    headers = {"X-ClickHouse-Key": password} if password else {}
    sql = load_sql("downloads_clickpy.sql")
    with httpx.Client(timeout=settings.http_timeout_s) as client:
        response = client.post(url + "/", params=params, content=sql.encode(), headers=headers)
    if response.status_code != 200:
        raise httpx.HTTPStatusError(
            f"ClickPy query for {day} failed with HTTP {response.status_code}: {response.text[:500]}",
            request=response.request,
            response=response,
        )
    records: list[Any] = []
    for n, line in enumerate(response.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            records.append(Unparseable(f"ClickPy response line {n}: invalid JSON ({exc.msg})", line))
    summary = response.headers.get("X-ClickHouse-Summary", "")
    log.info("ClickPy %s: %d rows from %s (%s)", day, len(records), url, summary)
    return FetchResult(records=records, source="clickpy", origin=f"clickpy {url}", details={"summary": summary})
