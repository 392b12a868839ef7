"""The live PyPI clients against local stand-ins of BigQuery's REST API and ClickHouse's HTTP interface.

The clients are the production code (google-cloud-bigquery with service-account credentials built from the Airflow
connection; httpx for ClickHouse); only the endpoints are local. The stand-ins execute the submitted SQL, so these
tests also check the parameter binding end to end.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import pytest
from google.auth import jwt as google_jwt
from madlake.sources.pypi import bigquery as bq
from madlake.sources.pypi import clickpy
from madlake.sources.pypi.models import parse_rows
from madlake.sources.pypi.settings import PypiSettings

from tests.integration.pypi_standins import BigQueryStandIn, ClickHouseStandIn
from tests.unit.test_pypi_sql import DAY, DDL, TRACKED, expected, make_events

pytestmark = pytest.mark.integration


def service_account_key(token_uri: str) -> tuple[dict, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {
        "type": "service_account",
        "project_id": "madlake-billing",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "madlake@madlake-billing.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
        # a non-Google universe: google-auth then skips its background lookup on iamcredentials.googleapis.com
        "universe_domain": "madlake.test",
    }, public


@pytest.fixture
def bigquery(monkeypatch: pytest.MonkeyPatch):
    with BigQueryStandIn(DDL) as server:
        key, server.public_pem = service_account_key(f"{server.url}/token")
        conn = {
            "conn_type": "google_cloud_platform",
            "extra": {"keyfile_dict": json.dumps(key), "api_endpoint": server.url},
        }
        monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_BIGQUERY", json.dumps(conn))
        yield server


def settings(**overrides) -> PypiSettings:
    return PypiSettings(http_timeout_s=10, query_timeout_s=10, **overrides)


def as_counter(records: list[dict]) -> Counter:
    parsed = parse_rows(records, DAY, "bigquery")
    assert not parsed.rejections
    return Counter(
        {
            (
                r["download_date"],
                r["project"],
                r["version"],
                r["installer"],
                r["python_version"],
                r["system"],
                r["country_code"],
                r["ci"],
            ): r["downloads"]
            for r in parsed.rows
        }
    )


def test_bigquery_dry_run_then_parameterized_query_with_service_account(bigquery: BigQueryStandIn) -> None:
    events = make_events()
    bigquery.load(events)
    result = bq.fetch_day(DAY, TRACKED, settings(max_bytes_billed=10 * 1024**3))
    assert as_counter(result.records) == expected(events, TRACKED)
    assert result.source == "bigquery" and result.bytes_scanned == 5 * 1024**3
    dry, real = bigquery.jobs_inserted()
    assert dry["configuration"]["dryRun"] is True
    assert "dryRun" not in real["configuration"] or real["configuration"]["dryRun"] is False
    query = real["configuration"]["query"]
    assert query["maximumBytesBilled"] == str(10 * 1024**3)
    assert query["useLegacySql"] is False
    params = {p["name"]: p for p in query["queryParameters"]}
    assert params["day"]["parameterType"]["type"] == "DATE" and params["day"]["parameterValue"]["value"] == "2026-03-14"
    assert params["projects"]["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "STRING"}}
    assert sorted(v["value"] for v in params["projects"]["parameterValue"]["arrayValues"]) == sorted(TRACKED)
    assert not any(p in query["query"] for p in TRACKED)  # values are bound, never pasted into the SQL
    # every call is authenticated with a JWT signed by the service-account key from the Airflow connection
    auth = {r["headers"].get("authorization") for r in bigquery.requests if r["path"].startswith("/bigquery")}
    assert len(auth) == 1
    token = auth.pop().removeprefix("Bearer ")
    claims = google_jwt.decode(token, certs={"k1": bigquery.public_pem})
    assert claims["iss"] == "madlake@madlake-billing.iam.gserviceaccount.com"


def test_bigquery_over_the_cap_fails_before_running_anything(bigquery: BigQueryStandIn) -> None:
    bigquery.load(make_events(50))
    bigquery.bytes_processed = 80 * 1024**3
    with pytest.raises(bq.BytesCapExceededError, match=r"would scan 80\.0 GiB .* over the cap of 60\.0 GiB"):
        bq.fetch_day(DAY, TRACKED, settings())
    jobs = bigquery.jobs_inserted()
    assert len(jobs) == 1 and jobs[0]["configuration"]["dryRun"] is True  # no billable job was started


def test_bigquery_refusing_a_job_over_maximum_bytes_billed_is_a_cap_error(bigquery: BigQueryStandIn) -> None:
    bigquery.load(make_events(50))
    bigquery.bytes_processed = 2 * 1024**3
    # the dry run passes a 3 GiB cap; the job itself then bills more than BigQuery allows (the server's guard)
    original = bigquery.handle

    def handle(record):
        if record["method"] == "POST" and record["path"].endswith("/jobs") and b'"dryRun": true' not in record["body"]:
            bigquery.bytes_processed = 4 * 1024**3
        return original(record)

    bigquery.handle = handle
    with pytest.raises(bq.BytesCapExceededError, match="refused"):
        bq.fetch_day(DAY, TRACKED, settings(max_bytes_billed=3 * 1024**3))


def test_bigquery_connection_errors_name_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MADLAKE_BIGQUERY",
        json.dumps({"conn_type": "google_cloud_platform", "extra": {"keyfile_dict": "{not json"}}),
    )
    with pytest.raises(ValueError, match="keyfile_dict is not valid JSON"):
        bq.build_client(settings())
    monkeypatch.delenv("AIRFLOW_CONN_MADLAKE_BIGQUERY")
    with pytest.raises(LookupError, match="madlake_bigquery"):
        bq.build_client(settings())


# --------------------------------------------------------------------------------------------------------------------
# ClickPy
# --------------------------------------------------------------------------------------------------------------------


def clickpy_rows(projects: list[str], seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for project in [*projects, "requests"]:
        for version in ("1.0.0", "2.0.0"):
            for installer in ("pip", "uv", ""):
                for country in ("US", "DE", ""):
                    for day in (DAY, date(2026, 3, 13)):
                        for ftype in ("bdist_wheel", "sdist"):
                            rows.append(
                                {
                                    "project": project,
                                    "version": version,
                                    "date": day,
                                    "installer": installer,
                                    "type": ftype,
                                    "country_code": country,
                                    "count": rng.randint(1, 10**6),
                                }
                            )
    return rows


def clickpy_expected(rows: list[dict], projects: list[str]) -> Counter:
    out: Counter = Counter()
    for r in rows:
        if r["date"] == DAY and r["project"] in projects:
            out[
                (DAY, r["project"], r["version"], r["installer"] or None, None, None, r["country_code"] or None, None)
            ] += r["count"]
    return out


@pytest.fixture
def clickhouse(monkeypatch: pytest.MonkeyPatch):
    with ClickHouseStandIn(user="play") as server:
        monkeypatch.setenv(
            "AIRFLOW_CONN_MADLAKE_CLICKPY", json.dumps({"conn_type": "http", "host": server.url, "login": "play"})
        )
        yield server


def test_clickpy_query_parameters_and_result(clickhouse: ClickHouseStandIn) -> None:
    rows = clickpy_rows(TRACKED)
    clickhouse.load(rows)
    result = clickpy.fetch_day(DAY, TRACKED, settings())
    assert as_counter(result.records) == clickpy_expected(rows, TRACKED)
    request = clickhouse.requests[-1]
    assert request["query"]["param_day"] == ["2026-03-14"]
    assert request["query"]["param_projects"] == ["['apache-airflow','duckdb','pyiceberg']"]
    assert request["query"]["timeout_overflow_mode"] == ["throw"]
    assert not any(p.encode() in request["body"] for p in TRACKED)
    assert isinstance(result.records[0]["downloads"], str)  # ClickHouse quotes Int64; parse_rows converts


def test_clickpy_errors_carry_clickhouse_message(clickhouse: ClickHouseStandIn, monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MADLAKE_CLICKPY", json.dumps({"conn_type": "http", "host": clickhouse.url, "login": "intruder"})
    )
    with pytest.raises(httpx.HTTPStatusError, match="Authentication failed"):
        clickpy.fetch_day(DAY, TRACKED, settings())


def test_clickpy_array_parameter_escaping() -> None:
    assert clickpy.clickhouse_array(["a", "it's", "back\\slash"]) == "['a','it\\'s','back\\\\slash']"


# --------------------------------------------------------------------------------------------------------------------
# Live mode end to end: load_day from the stand-ins into the lakehouse
# --------------------------------------------------------------------------------------------------------------------


def test_load_day_live_from_clickpy_publishes_clickpy_rows(
    lakehouse: Path, clickhouse: ClickHouseStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.pipelines.pypi import load_day, tracked_projects

    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
    monkeypatch.setenv("MADLAKE_PYPI_SOURCE", "clickpy")
    projects = tracked_projects()
    rows = clickpy_rows(projects)
    clickhouse.load(rows)
    summary = load_day(DAY)
    want = clickpy_expected(rows, projects)
    assert summary["rows"] == len(want) and summary["downloads"] == sum(want.values())
    assert summary["source"] == ["clickpy"] and summary["absent_packages"] == 0
    data = load_table("pypi_downloads").scan().to_arrow()
    assert set(data.column("source").to_pylist()) == {"clickpy"}
    assert set(data.column("python_version").to_pylist()) == {None}  # ClickPy has no Python split


def test_load_day_live_from_bigquery(
    lakehouse: Path, bigquery: BigQueryStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.pypi import load_day, tracked_projects

    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
    monkeypatch.setenv("MADLAKE_PYPI_SOURCE", "bigquery")
    monkeypatch.setenv("MADLAKE_PYPI_HTTP_TIMEOUT_S", "10")
    projects = tracked_projects()
    events = [e for e in make_events(2000)]
    rng = random.Random(2)
    for e in events:  # spread the events over every tracked project
        p = rng.choice(projects)
        e["file"] = {**e["file"], "project": p}
    bigquery.load(events)
    summary = load_day(DAY)
    want = expected(events, projects)
    assert summary["rows"] == len(want) and summary["downloads"] == sum(want.values())
    assert summary["source"] == ["bigquery"] and summary["bytes_scanned"] == 5 * 1024**3


def test_clickpy_endpoint_from_a_hostname_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MADLAKE_CLICKPY",
        json.dumps(
            {
                "conn_type": "http",
                "host": "clickpy-clickhouse.clickhouse.com",
                "schema": "https",
                "port": 443,
                "login": "play",
            }
        ),
    )
    assert clickpy.endpoint(settings()) == ("https://clickpy-clickhouse.clickhouse.com:443", "play", None)
    monkeypatch.delenv("AIRFLOW_CONN_MADLAKE_CLICKPY")
    assert clickpy.endpoint(settings()) == ("https://sql-clickhouse.clickhouse.com", "demo", None)
