"""Test isolation for every tier.

Before anything imports Airflow: a private ``AIRFLOW_HOME`` and ``MADLAKE_HOME`` under a temp folder, no example
DAGs, and the dummy connections in ``tests/fixtures/connections.json`` exported as ``AIRFLOW_CONN_*`` variables (so
DAGs and hooks load with no database and no secrets, the telemetry-airflow way).

The test session's replay folder (``MADLAKE_REPLAY_DIR``) is the bundled genuine replay plus what only tests need:
the fixture overlay ``tests/fixtures/replay_overlay`` (synthesized stargazer pages) and GENERATED PyPI days
(``bench/synth/pypi_days.py``, every row ``replay-sample``) for the daily pipeline, which has no genuine daily files.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
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
for key in [k for k in os.environ if k.startswith("MADLAKE_") and k not in ("MADLAKE_HOME", "MADLAKE_REPLAY_DIR")]:
    del os.environ[key]


def _session_replay_dir(target: Path) -> Path:
    """Bundled replay (hard links where possible) + the test overlay + generated PyPI days, built once per session."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(ROOT / "include" / "madlake" / "replay", target, copy_function=link)
    shutil.copytree(ROOT / "tests" / "fixtures" / "replay_overlay", target, copy_function=link, dirs_exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from bench.synth.pypi_days import write_days

    write_days(target / "pypi")
    return target


REPLAY_DIR = _session_replay_dir(_SESSION_DIR / "replay")
os.environ["MADLAKE_REPLAY_DIR"] = str(REPLAY_DIR)
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
