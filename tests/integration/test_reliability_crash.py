"""Crash safety: a writer SIGKILLed after writing its data files but before its commit changes nothing visible, and
maintenance later removes the files it left behind.

The writer is a real separate process running madlake's write path; the only thing injected is the crash: a hook on
pyiceberg's ``Transaction.commit_transaction`` that kills the process (``SIGKILL``, no cleanup, no ``finally``) at the
moment the commit would start, i.e. after every data and manifest file of the operation has been written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent(
    """
    import os, sys
    from datetime import date
    import pyarrow as pa
    from pyiceberg.expressions import EqualTo
    from pyiceberg.table import Transaction

    from madlake.lakehouse import writes
    from madlake.tables.spec import TableSpec
    from madlake.lakehouse.tables import ensure_table
    from tests.unit.test_maintenance import SPEC

    from pyiceberg.table.update import SetSnapshotRefUpdate

    original = Transaction.commit_transaction

    def crash_before_moving_main(self, *args, **kwargs):
        # Let branch bookkeeping through (a WAP stages on a branch); die just before the commit that moves main.
        if any(isinstance(u, SetSnapshotRefUpdate) and u.ref_name == "main" for u in self._updates):
            sys.stdout.write("files written, committing\\n"); sys.stdout.flush()
            os.kill(os.getpid(), 9)
        return original(self, *args, **kwargs)

    Transaction.commit_transaction = crash_before_moving_main
    table = ensure_table(SPEC)
    mode = sys.argv[1]
    d = date(2024, 1, 1)
    df = pa.table({"day": [d] * 1000, "key": [f"new{i}" for i in range(1000)], "value": list(range(1000))})
    ctx = writes.CommitContext("crash_test", "crash", "test")
    if mode == "replace":
        writes.replace_partition(table, df, EqualTo("day", d.isoformat()), ctx)
    elif mode == "merge":
        writes.merge(table, df, ["day", "key"], ctx)
    elif mode == "wap":
        audit = lambda rows, t, sid: writes.AuditReport((writes.ExpectationResult("ok", True),))
        writes.write_audit_publish(table, df, EqualTo("day", d.isoformat()), d.isoformat(), audit, ctx)
    print("unreachable: the commit returned")
    """
)


@pytest.mark.parametrize("mode", ["replace", "merge", "wap"])
def test_killed_writer_leaves_no_visible_change_and_maintenance_removes_its_files(lakehouse: Path, mode: str) -> None:
    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import ensure_table
    from madlake.ops import maintenance as m
    from madlake.sql.engine import LocalEngine

    from tests.fingerprint import fingerprint_table
    from tests.unit.test_maintenance import SPEC

    table = ensure_table(SPEC)
    d = date(2024, 1, 1)
    seed = pa.table({"day": [d, d + timedelta(days=1)], "key": ["a", "b"], "value": [1, 2]})
    ctx = writes.CommitContext("seed", "seed", "test")
    writes.replace_partition(table, seed.slice(0, 1), EqualTo("day", d.isoformat()), ctx)
    writes.replace_partition(table, seed.slice(1, 1), EqualTo("day", (d + timedelta(days=1)).isoformat()), ctx)
    before = fingerprint_table(table, key=SPEC.key)
    snapshot_before = table.current_snapshot().snapshot_id
    refs_before = set(table.refs())
    files_before = {f.path for f in m.list_table_files(table)}

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse), "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, mode], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr[-3000:])
    assert "files written, committing" in proc.stdout and "unreachable" not in proc.stdout

    table = table.catalog.load_table(table.name())
    after = fingerprint_table(table, key=SPEC.key)
    left_behind = {f.path for f in m.list_table_files(table)} - files_before
    parquet_left = [p for p in left_behind if p.endswith(".parquet")]
    visible_change = not after.same_content(before)
    assert not visible_change, "a killed writer changed the table"
    assert table.current_snapshot().snapshot_id == snapshot_before
    new_refs = set(table.refs()) - refs_before
    if mode == "wap":
        # Staged and audited but never published: the audit branch is kept (by design) and main is untouched.
        assert new_refs == {"audit_events_2024-01-01"}, new_refs
    else:
        assert not new_refs, f"a killed writer left refs behind: {new_refs}"
    assert LocalEngine().query("select count(*) from events").column(0)[0].as_py() == 2
    assert parquet_left, "the writer was killed before writing any data file: the test proves nothing"

    # A young orphan may belong to a writer in flight: the default policy keeps it.
    kept = m.maintain_table(table, m.MaintenancePolicy(), ctx)
    assert kept.orphans_deleted == 0
    if mode != "wap":
        assert kept.orphans_too_young >= len(parquet_left)
    else:
        # The kept branch references its staged files; the retried run replaces the branch and publishes, after
        # which nothing references them any more.
        staged = pa.table({"day": [d], "key": ["c"], "value": [3]})
        audit = lambda rows, t, sid: writes.AuditReport((writes.ExpectationResult("ok", True),))  # noqa: E731
        writes.write_audit_publish(table, staged, EqualTo("day", d.isoformat()), d.isoformat(), audit, ctx)
        before = fingerprint_table(table, key=SPEC.key)
    policy = m.MaintenancePolicy(orphan_min_age=timedelta(0), snapshot_retention=timedelta(0), retain_last=1)
    report = m.maintain_table(table, policy, ctx)
    remaining = {f.path for f in m.list_table_files(table)}
    record(
        f"crash_safety_{mode}",
        files_left_by_killed_writer=len(left_behind),
        data_files_left=len(parquet_left),
        orphans_removed=report.orphans_deleted,
        visible_change=visible_change,
        rows_before=before.rows,
        rows_after=fingerprint_table(table, key=SPEC.key).rows,
    )
    survivors = left_behind & remaining
    # Only table-history metadata files (the metadata log of the killed run's branch commits) may survive.
    assert all(p.endswith(".metadata.json") for p in survivors), sorted(survivors)
    assert survivors <= m.referenced_files(table)
    assert report.orphans_deleted >= len(left_behind - survivors)
    assert m.referenced_files(table) <= remaining
    assert fingerprint_table(table, key=SPEC.key).same_content(before)
