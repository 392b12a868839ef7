"""The Airflow seam: only ``madlake.orchestration`` imports Airflow, and a run request carries the run to the writes."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import madlake
from madlake.orchestration.request import RunRequest

PACKAGE = Path(madlake.__file__).parent


def _airflow_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "airflow"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow":
            found.append(node.module or "")
    return found


def test_nothing_below_orchestration_imports_airflow() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): imports
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.relative_to(PACKAGE).parts[0] != "orchestration" and (imports := _airflow_imports(p))
    }
    assert offenders == {}
    # the check can fail: orchestration does import it
    assert _airflow_imports(PACKAGE / "orchestration" / "runtime.py")


def test_the_request_of_an_airflow_run_tags_its_commits_with_the_dag_and_run() -> None:
    context = {
        "dag": SimpleNamespace(dag_id="pypi_downloads"),
        "run_id": "scheduled__2026-03-10T00:00:00+00:00",
        "dag_run": SimpleNamespace(conf={"date": "2026-03-11"}, run_type="scheduled"),
        "params": {"date": None, "start": None},
        "logical_date": datetime(2026, 3, 10, tzinfo=UTC),
        "data_interval_start": datetime(2026, 3, 10, tzinfo=UTC),
        "data_interval_end": datetime(2026, 3, 11, tzinfo=UTC),
    }
    request = RunRequest.from_airflow(context)
    assert (request.dag_id, request.run_type, request.day, request.days) == (
        "pypi_downloads",
        "scheduled",
        date(2026, 3, 11),  # conf wins over the logical date
        [date(2026, 3, 11)],
    )
    ctx = request.commit("pypi")
    assert ctx.properties() == {
        "madlake.dag-id": "pypi_downloads",
        "madlake.run-id": "scheduled__2026-03-10T00:00:00+00:00",
        "madlake.source": "pypi",
    }


def test_a_request_outside_airflow_has_a_unique_run_id() -> None:
    a, b = RunRequest.for_cli(), RunRequest.for_cli()
    assert a.run_id != b.run_id and a.dag_id == "cli" and a.run_type == "cli"


def test_the_cli_and_the_demo_do_not_import_airflow_before_the_runner_points_it_at_its_home() -> None:
    import subprocess
    import sys

    code = "import sys, madlake.cli, madlake.demo; print(sorted(m for m in sys.modules if m.startswith('airflow')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
