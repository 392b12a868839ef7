"""The BigQuery SQL itself: transpiled with sqlglot to DuckDB and run on a table with the real nested schema.

The expected aggregates are computed independently in Python from the same events, so a wrong filter (day bounds,
project list), a wrong grain column or a wrong Python-minor extraction fails the test.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
import sqlglot
from madlake.sources.pypi.bigquery import BIGQUERY_TABLE, load_sql
from sqlglot import exp

DAY = date(2026, 3, 14)
TRACKED = ["duckdb", "pyiceberg", "apache-airflow"]

DDL = """
create table file_downloads (
    timestamp timestamptz,
    country_code varchar,
    url varchar,
    project varchar,
    file struct(filename varchar, project varchar, version varchar, type varchar),
    details struct(
        installer struct(name varchar, version varchar),
        python varchar,
        implementation struct(name varchar, version varchar),
        distro struct(name varchar, version varchar, id varchar, libc struct(lib varchar, version varchar)),
        system struct(name varchar, release varchar),
        cpu varchar,
        openssl_version varchar,
        setuptools_version varchar,
        rustc_version varchar,
        ci boolean
    ),
    tls_protocol varchar,
    tls_cipher varchar
)
"""


def duckdb_sql() -> str:
    tree = sqlglot.parse_one(load_sql("downloads_bigquery.sql"), read="bigquery")

    def local_table(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == BIGQUERY_TABLE.split(".")[-1]:
            return exp.to_table("file_downloads")
        return node

    return tree.transform(local_table).sql(dialect="duckdb")


def make_events(n: int = 3000, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    events = []
    for _ in range(n):
        # a third of the events fall on the neighbouring days (including the exact boundaries)
        offset = rng.choice(
            [timedelta(seconds=rng.randint(0, 86399))] * 4
            + [
                timedelta(seconds=-1),
                timedelta(days=1),
                timedelta(days=1, seconds=5),
                timedelta(0),
                timedelta(hours=-rng.randint(1, 20)),
            ]
        )
        project = rng.choice([*TRACKED, "requests", "numpy"])
        raw_project = project if rng.random() < 0.9 else project.upper().replace("-", "_")  # non-normalized spelling
        python = rng.choice(["3.11.4", "3.12.0rc1", "3.10", "3.9.18", None, "2.7.18"])
        details = (
            None
            if rng.random() < 0.05
            else {
                "installer": {"name": rng.choice(["pip", "uv", "poetry", None]), "version": "24.0"},
                "python": python,
                "implementation": {"name": "CPython", "version": python},
                "distro": {
                    "name": "Ubuntu",
                    "version": "22.04",
                    "id": "jammy",
                    "libc": {"lib": "glibc", "version": "2.35"},
                },
                "system": {"name": rng.choice(["Linux", "Windows", "Darwin", None]), "release": "6.1"},
                "cpu": "x86_64",
                "openssl_version": "3.0.2",
                "setuptools_version": "69.0",
                "rustc_version": None,
                "ci": rng.choice([True, False, None]),
            }
        )
        version = rng.choice(["1.0.0", "1.1.0"])
        events.append(
            {
                "timestamp": start + offset,
                "country_code": rng.choice(["US", "DE", "CN", None]),
                "url": f"/packages/xx/{project}-{version}.tar.gz",
                "project": raw_project,
                "file": {
                    "filename": f"{project}-{version}.tar.gz",
                    "project": raw_project,
                    "version": version,
                    "type": "sdist",
                },
                "details": details,
                "tls_protocol": "TLSv1.3",
                "tls_cipher": "TLS_AES_128_GCM_SHA256",
            }
        )
    return events


def expected(events: list[dict], projects: list[str]) -> Counter:
    counts: Counter = Counter()
    lo = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    for e in events:
        if not (lo <= e["timestamp"] < lo + timedelta(days=1)) or e["file"]["project"] not in projects:
            continue
        d = e["details"] or {}
        python = d.get("python")
        minor = ".".join(python.split(".")[:2]) if python else None
        counts[
            (
                DAY,
                e["file"]["project"].lower().replace("_", "-"),
                e["file"]["version"],
                (d.get("installer") or {}).get("name"),
                minor,
                (d.get("system") or {}).get("name"),
                e["country_code"],
                d.get("ci"),
            )
        ] += 1
    return counts


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(DDL)
    return connection


def load(con: duckdb.DuckDBPyConnection, events: list[dict]) -> None:
    import pyarrow as pa

    schema_probe = con.sql("select * from file_downloads limit 0").to_arrow_table().schema
    con.register("incoming", pa.Table.from_pylist(events, schema=schema_probe))
    con.execute("insert into file_downloads select * from incoming")


def run(con: duckdb.DuckDBPyConnection, projects: list[str]) -> Counter:
    rows = con.execute(duckdb_sql(), {"day": DAY, "projects": projects}).fetchall()
    return Counter({tuple(r[:8]): r[8] for r in rows})


def test_the_bigquery_sql_aggregates_one_day_of_the_tracked_projects(con) -> None:
    events = make_events()
    load(con, events)
    got = run(con, TRACKED)
    want = expected(events, TRACKED)
    assert got == want
    assert sum(got.values()) > 500 and max(got.values()) > 1  # the fixture really exercises the aggregation
    assert {k[1] for k in got} == set(TRACKED)  # untracked projects and other days are filtered out


def test_non_normalized_spellings_are_merged_into_the_pep503_name(con) -> None:
    events = make_events()
    load(con, events)
    spellings = TRACKED + [p.upper().replace("-", "_") for p in TRACKED]
    got = run(con, spellings)
    assert got == expected(events, spellings)
    assert {k[1] for k in got} == set(TRACKED)
    assert sum(got.values()) > sum(run(con, TRACKED).values())


def test_python_minor_installer_ci_and_nulls(con) -> None:
    events = make_events(400, seed=3)
    load(con, events)
    got = run(con, TRACKED)
    assert {k[4] for k in got} <= {"3.11", "3.12", "3.10", "3.9", "2.7", None}
    assert None in {k[3] for k in got}  # null installer (details missing) kept as its own group
    assert {k[7] for k in got} == {True, False, None}


def test_day_bounds_are_half_open(con) -> None:
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    base = make_events(1, seed=1)[0]
    events = [
        {**base, "timestamp": start - timedelta(microseconds=1)},
        {**base, "timestamp": start},
        {**base, "timestamp": start + timedelta(days=1) - timedelta(microseconds=1)},
        {**base, "timestamp": start + timedelta(days=1)},
    ]
    load(con, events)
    got = run(con, [base["file"]["project"]])
    assert sum(got.values()) == 2


def test_the_project_list_is_a_bound_parameter_not_text(con) -> None:
    sql = load_sql("downloads_bigquery.sql")
    assert "@projects" in sql and "@day" in sql
    for project in TRACKED:
        assert project not in sql
    events = make_events(300, seed=5)
    load(con, events)
    only = run(con, ["duckdb"])
    assert only and {k[1] for k in only} == {"duckdb"}
    assert run(con, []) == Counter()
