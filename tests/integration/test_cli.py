"""The CLI as people use it: a real ``madlake`` process running a DAG through Airflow, then SQL over the result."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

MADLAKE = str(Path(sys.executable).with_name("madlake"))


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MADLAKE, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADLAKE_", "AIRFLOW_HOME"))}
    env["MADLAKE_HOME"] = str(home)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    return env


def test_run_tools_catalog_then_query_dim_tools(cli_env: dict[str, str]) -> None:
    done = run_cli("run", "tools_catalog", env=cli_env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "succeeded" in done.stdout
    out = run_cli("sql", "select count(*) as n from dim_tools", "--format", "json", env=cli_env)
    assert out.returncode == 0, out.stderr[-2000:]
    n = json.loads(out.stdout)[0]["n"]
    print(f"dim_tools rows: {n}")
    assert n >= 113
    # rerun: dim_tools is replaced, not appended
    assert run_cli("run", "tools_catalog", env=cli_env).returncode == 0
    again = run_cli(
        "sql", "select count(*) as n, count(distinct tool_id) as d from dim_tools", "--format", "csv", env=cli_env
    )
    assert list(csv.DictReader(io.StringIO(again.stdout))) == [{"n": str(n), "d": str(n)}]


def test_sql_errors_are_clear(cli_env: dict[str, str]) -> None:
    out = run_cli("sql", "select * from no_such_table", env=cli_env)
    assert out.returncode == 1
    assert "no_such_table" in out.stderr


def test_unknown_dag_names_the_known_ones(cli_env: dict[str, str]) -> None:
    out = run_cli("run", "no_such_dag", env=cli_env)
    assert out.returncode == 1
    assert "unknown DAG 'no_such_dag'" in out.stderr and "tools_catalog" in out.stderr


def test_catalog_export_json_and_csv(cli_env: dict[str, str]) -> None:
    out = run_cli("catalog", "export", "--format", "json", env=cli_env)
    tools = json.loads(out.stdout)
    assert len(tools) >= 113
    assert {"id", "name", "aliases", "categories", "pypi", "github"} <= set(tools[0])
    by_id = {t["id"]: t for t in tools}
    assert "pyiceberg" in by_id["iceberg"]["pypi"]
    lines = run_cli("catalog", "export", "--format", "csv", env=cli_env).stdout.splitlines()
    assert lines[0].startswith("id,name,")
    assert len(lines) == len(tools) + 1


def test_catalog_validate_names_the_bad_entry(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "categories: {olap_database: OLAP}\ntools:\n"
        "  - {id: x, name: X, categories: [nope], open_source: true, aliases: [{term: X}]}\n"
    )
    out = run_cli("catalog", "validate", str(bad), env=cli_env)
    assert out.returncode == 1
    assert "nope" in out.stderr
