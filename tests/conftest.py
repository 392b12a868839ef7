"""Test isolation for every tier.

Before anything imports Airflow: a private ``AIRFLOW_HOME`` and ``MADLAKE_HOME`` under a temp folder, no example
DAGs, and the dummy connections in ``tests/fixtures/connections.json`` exported as ``AIRFLOW_CONN_*`` variables (so
DAGs and hooks load with no database and no secrets, the telemetry-airflow way).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="madlake-tests-"))

os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["MADLAKE_HOME"] = str(_SESSION_DIR / "madlake")
for key in [k for k in os.environ if k.startswith("MADLAKE_") and k not in ("MADLAKE_HOME",)]:
    del os.environ[key]
for conn_id, conn in json.loads((ROOT / "tests" / "fixtures" / "connections.json").read_text()).items():
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)


@pytest.fixture
def lakehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty local lakehouse (``MADLAKE_HOME``) for one test."""
    from madlake.lakehouse.catalog import reset_catalog_cache

    home = tmp_path / "lakehouse"
    monkeypatch.setenv("MADLAKE_HOME", str(home))
    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    reset_catalog_cache()
    yield home
    reset_catalog_cache()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots, reports): ``test-artifacts/``."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
