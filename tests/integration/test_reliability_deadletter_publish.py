"""A failed rerun must not erase the audit trail (issue #13, item 3).

The original failure: the dead letters of a day were replaced *before* the audit; when the rerun's audit then failed,
the published day kept its rows but lost its ``rejected_records``. Here a PyPI day is published with three bad rows,
then rerun with input whose audit fails (a row with zero downloads) and two other bad rows: the published rows and
the three dead letters of their publish must both still be there.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 1)


def _replay(folder: Path, lines: list[str]) -> None:
    (folder / "pypi").mkdir(parents=True, exist_ok=True)
    (folder / "pypi" / f"{DAY}.jsonl").write_text("\n".join(lines) + "\n")


def _query(sql: str, params: list) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params).to_pylist()


def test_a_rerun_whose_audit_fails_keeps_the_published_days_dead_letters(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.lakehouse.writes import AuditFailedError
    from madlake.pipelines.pypi import load_day

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    good = gzip.decompress((BUNDLED_REPLAY_DIR / "pypi" / f"{DAY}.jsonl.gz").read_bytes()).decode().splitlines()
    first_bad = ['{"project": "duckdb"}', "not json at all", '{"download_date": "2026-13-45"}']
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "run1"))
    _replay(tmp_path / "run1", good + first_bad)
    load_day(DAY)
    published = _query("select count(*) as n from pypi_downloads where download_date = ?", [DAY])[0]["n"]

    zero = json.loads(good[0]) | {"downloads": 0}  # valid record, but the audit requires downloads > 0
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "run2"))
    _replay(tmp_path / "run2", [*good[1:], json.dumps(zero), "[1, 2]", '{"version": 3}'])
    with pytest.raises(AuditFailedError):
        load_day(DAY)

    rows = _query("select count(*) as n from pypi_downloads where download_date = ?", [DAY])[0]["n"]
    dead = _query(
        "select raw_payload from rejected_records where source = 'pypi' and run_date = ? order by raw_payload",
        [DAY.isoformat()],
    )
    record("deadletters_follow_publish", published_rows=rows, dead_letters=len(dead), failed_reruns=1)
    assert rows == published == len(good)
    assert len(dead) == 3, dead
    assert "2026-13-45" in " ".join(d["raw_payload"] for d in dead)
