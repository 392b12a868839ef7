"""Concurrency: commits to the same table at the same time all land; the loser of a race retries, never loses a write.

Two real processes (the same write path a DAG task uses) start on a shared barrier and commit to one table as fast as
they can; the catalog's compare-and-swap decides each race and ``madlake.lakehouse.writes`` redoes the loser's
operation from a fresh read. A deterministic case forces the race with a stale table handle, so a retry is certain.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

OPS = 6

WORKER = textwrap.dedent(
    """
    import logging, sys, time
    from datetime import date, timedelta
    import pyarrow as pa
    from pyiceberg.expressions import EqualTo

    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import ensure_table
    from madlake.ops.maintenance import MaintenancePolicy, maintain_table
    from tests.unit.test_maintenance import SPEC

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
    mode, worker, start_at, ops = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    table = ensure_table(SPEC)
    ctx = writes.CommitContext("concurrency", f"worker{worker}", "test")
    audit = lambda rows, t, sid: writes.AuditReport((writes.ExpectationResult("rows", rows.num_rows > 0),))
    d0 = date(2024, 1, 1)
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(ops):
        if mode == "compaction" and worker == 1:
            maintain_table(table, MaintenancePolicy(compact_min_files=2), ctx)
            continue
        if mode == "replace":
            d = d0 + timedelta(days=worker * 100 + i)
            df = pa.table({"day": [d], "key": [f"w{worker}"], "value": [i]})
            writes.replace_partition(table, df, EqualTo("day", d.isoformat()), ctx)
        elif mode in ("merge", "compaction"):
            df = pa.table({"day": [d0], "key": [f"w{worker}-{i}"], "value": [i]})
            writes.merge(table, df, ["day", "key"], ctx)
        elif mode == "wap":
            d = d0 + timedelta(days=worker * 100 + i)
            df = pa.table({"day": [d], "key": [f"w{worker}"], "value": [i]})
            writes.write_audit_publish(table, df, EqualTo("day", d.isoformat()), d.isoformat(), audit, ctx)
    print("done")
    """
)


def expected_rows(mode: str) -> set[tuple]:
    d0 = date(2024, 1, 1)
    if mode in ("replace", "wap"):
        return {(d0 + timedelta(days=w * 100 + i), f"w{w}", i) for w in (0, 1) for i in range(OPS)}
    workers = (0,) if mode == "compaction" else (0, 1)
    return {(d0, f"w{w}-{i}", i) for w in workers for i in range(OPS)}


@pytest.mark.parametrize("mode", ["replace", "merge", "wap", "compaction"])
def test_two_processes_committing_at_once_both_land(lakehouse: Path, mode: str) -> None:
    from madlake.lakehouse.tables import ensure_table

    from tests.fingerprint import fingerprint_table
    from tests.unit.test_maintenance import SPEC

    table = ensure_table(SPEC)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse), "PYTHONPATH": str(root)}
    start_at = time.time() + 4  # both interpreters import pyiceberg first, then start together
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, mode, str(w), str(start_at), str(OPS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (0, 1)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0 and "done" in out, err[-3000:]
    logs = "".join(err for _, err in outputs)
    # madlake's redo-from-fresh-read retries, plus pyiceberg's own rebase-and-retry of non-conflicting commits.
    retries = logs.count("lost a commit race") + logs.count("rebasing")
    rebased = logs.count("Commit failed due to a concurrent update")

    table.refresh()
    got = {(r["day"], r["key"], r["value"]) for r in table.scan().to_arrow().to_pylist()}
    want = expected_rows(mode)
    fp = fingerprint_table(table, key=SPEC.key)
    record(
        f"concurrency_{mode}",
        processes=2,
        commits_attempted=2 * OPS,
        commit_races_redone=retries,
        commits_rebased_by_pyiceberg=rebased,
        rows_expected=len(want),
        rows_found=fp.rows,
        writes_lost=len(want - got),
        duplicate_keys=fp.duplicate_keys,
    )
    assert got == want, f"lost: {sorted(want - got)[:5]}, unexpected: {sorted(got - want)[:5]}"
    assert fp.duplicate_keys == 0 and fp.rows == len(want)


def test_a_stale_writer_retries_instead_of_overwriting(lakehouse: Path, caplog: pytest.LogCaptureFixture) -> None:
    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import ensure_table

    from tests.unit.test_maintenance import SPEC

    d = date(2024, 1, 1)
    ctx = writes.CommitContext("concurrency", "stale", "test")
    first = ensure_table(SPEC)
    writes.merge(first, pa.table({"day": [d], "key": ["a"], "value": [1]}), ["day", "key"], ctx)
    stale = first.catalog.load_table(first.name())  # opened now, used after the other writer committed
    writes.merge(first, pa.table({"day": [d], "key": ["b"], "value": [2]}), ["day", "key"], ctx)

    with caplog.at_level("WARNING", logger="madlake.lakehouse.writes"):
        writes.merge(stale, pa.table({"day": [d], "key": ["c"], "value": [3]}), ["day", "key"], ctx)

    races = [r for r in caplog.records if "lost a commit race" in r.getMessage()]
    first.refresh()
    keys = sorted(r["key"] for r in first.scan().to_arrow().to_pylist())
    record("concurrency_stale_handle", commit_races_retried=len(races), rows_found=len(keys), writes_lost=3 - len(keys))
    assert len(races) == 1, "the stale writer's commit should have lost the race exactly once"
    assert keys == ["a", "b", "c"], "a write was lost"
