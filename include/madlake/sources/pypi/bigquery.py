"""Live source: ``bigquery-public-data.pypi.file_downloads`` through google-cloud-bigquery.

* Credentials: the Airflow connection ``madlake_bigquery`` (:data:`madlake.names.Conn.BIGQUERY`). Its extra holds the
  service-account key as ``keyfile_dict`` (a JSON object or a JSON string) and optionally ``project`` (the billing
  project). With no key in the connection, Google's application-default credentials are used
  (``GOOGLE_APPLICATION_CREDENTIALS``). Optional extra ``api_endpoint`` points the client elsewhere (tests).
* One parameterized query per day (``pypi_downloads_bigquery.sql``): ``@day`` and ``@projects`` are query parameters.
* Cost guard: a dry run first logs the bytes the query will scan. Above ``MADLAKE_PYPI_MAX_BYTES_BILLED`` the run
  fails with :class:`BytesCapExceededError` *before* anything is billed; the real job also carries
  ``maximum_bytes_billed``, so BigQuery itself refuses a job that would bill more.
* Retries: API calls retry transient errors for at most ``http_timeout_s``; a failed *job* is not retried here (the
  Airflow task retries with backoff). Nothing is written before the rows are back, so a retry is always safe.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import google.auth
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from google.oauth2 import service_account

from madlake.names import Conn
from madlake.sources.pypi.connection import get_connection
from madlake.sources.pypi.models import FetchResult
from madlake.sources.pypi.settings import PypiSettings
from madlake.sql.files import sql_path

log = logging.getLogger(__name__)

BIGQUERY_TABLE = "bigquery-public-data.pypi.file_downloads"
SCOPES = ("https://www.googleapis.com/auth/bigquery",)


class BytesCapExceededError(RuntimeError):
    """The query would scan more than the configured cap; nothing was run or billed."""


def load_sql(name: str) -> str:
    """A query of this source: ``downloads_bigquery.sql`` is ``madlake/sql/sources/pypi_downloads_bigquery.sql``.

    Raises ``FileNotFoundError`` naming the file.
    """
    return sql_path("sources", "pypi_" + name.removesuffix(".sql")).read_text(encoding="utf-8")


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def build_client(settings: PypiSettings, conn_id: str = Conn.BIGQUERY) -> bigquery.Client:
    """A BigQuery client authenticated from the Airflow connection (see the module docstring).

    Raises:
        LookupError: the connection is missing. ValueError: its key is not valid JSON / not a service-account key.
    """
    conn = get_connection(conn_id)
    assert conn is not None
    extra = conn.extra
    keyfile = extra.get("keyfile_dict") or extra.get("extra__google_cloud_platform__keyfile_dict")
    if isinstance(keyfile, str):
        try:
            keyfile = json.loads(keyfile)
        except json.JSONDecodeError as exc:
            raise ValueError(f"connection {conn_id!r}: keyfile_dict is not valid JSON ({exc.msg})") from None
    project = settings.bigquery_project or extra.get("project") or (keyfile or {}).get("project_id")
    if keyfile:
        try:
            credentials = service_account.Credentials.from_service_account_info(keyfile, scopes=SCOPES)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"connection {conn_id!r}: keyfile_dict is not a service-account key ({exc})") from None
    else:
        credentials, default_project = google.auth.default(scopes=SCOPES)
        project = project or default_project
    options: dict[str, str] = {}
    if extra.get("api_endpoint"):
        options["api_endpoint"] = extra["api_endpoint"]
    if keyfile and keyfile.get("universe_domain") not in (None, "googleapis.com"):
        options["universe_domain"] = keyfile["universe_domain"]
    log.info("BigQuery client for billing project %s (connection %s)", project, conn_id)
    return bigquery.Client(project=project, credentials=credentials, client_options=options or None)


def query_parameters(day: date, projects: list[str]) -> list[Any]:
    """The query's bound parameters: ``@projects`` ARRAY<STRING>, ``@day`` DATE."""
    return [
        bigquery.ArrayQueryParameter("projects", "STRING", sorted(projects)),
        bigquery.ScalarQueryParameter("day", "DATE", day),
    ]


def fetch_day(
    day: date, projects: list[str], settings: PypiSettings, *, client: bigquery.Client | None = None
) -> FetchResult:
    """Dry-run, check the byte cap, run, and return the day's result rows.

    Raises:
        BytesCapExceededError: the dry run estimates more than ``settings.max_bytes_billed`` (nothing ran), or
            BigQuery refused the job for exceeding ``maximum_bytes_billed``.
        google.api_core.exceptions.GoogleAPIError: other API failures (retry the task).
    """
    client = client or build_client(settings)
    sql = load_sql("downloads_bigquery.sql")
    params = query_parameters(day, projects)
    cap = settings.max_bytes_billed
    retry = Retry(deadline=settings.http_timeout_s, initial=0.5, maximum=5)

    dry = client.query(
        sql,
        job_config=bigquery.QueryJobConfig(dry_run=True, use_query_cache=False, query_parameters=params),
        location=settings.bigquery_location,
        retry=retry,
        timeout=settings.http_timeout_s,
        job_retry=None,
    )
    estimate = int(dry.total_bytes_processed or 0)
    log.info(
        "BigQuery dry run for %s (%d projects): will scan %s (%d bytes); cap %s",
        day,
        len(projects),
        human_bytes(estimate),
        estimate,
        human_bytes(cap),
    )
    if estimate > cap:
        raise BytesCapExceededError(
            f"BigQuery query for {day} would scan {human_bytes(estimate)} ({estimate} bytes), over the cap of "
            f"{human_bytes(cap)} ({cap} bytes); nothing was run. Raise MADLAKE_PYPI_MAX_BYTES_BILLED to allow it."
        )
    config = bigquery.QueryJobConfig(
        query_parameters=params, maximum_bytes_billed=cap, labels={"pipeline": "madlake-pypi-downloads"}
    )
    try:
        job = client.query(
            sql,
            job_config=config,
            location=settings.bigquery_location,
            retry=retry,
            timeout=settings.http_timeout_s,
            job_retry=None,
        )
        result = job.result(timeout=settings.query_timeout_s, retry=retry)
        records = [dict(row.items()) for row in result]
    except (gexc.BadRequest, gexc.Forbidden) as exc:
        reasons = {e.get("reason") for e in (exc.errors or []) if isinstance(e, dict)}
        if "bytesBilledLimitExceeded" in reasons or "limit for bytes billed" in str(exc.message).lower():
            raise BytesCapExceededError(
                f"BigQuery refused the query for {day}: it would bill more than the cap of {human_bytes(cap)} "
                f"({str(exc.message).splitlines()[0]}). Raise MADLAKE_PYPI_MAX_BYTES_BILLED to allow it."
            ) from exc
        raise
    billed = getattr(job, "total_bytes_billed", None)
    log.info(
        "BigQuery job %s for %s: %d rows, %s billed",
        job.job_id,
        day,
        len(records),
        human_bytes(int(billed)) if billed else "?",
    )
    return FetchResult(
        records=records,
        source="bigquery",
        origin=f"bigquery job {job.job_id}",
        bytes_scanned=estimate,
        details={"job_id": job.job_id, "bytes_billed": billed},
    )
