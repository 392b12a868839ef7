"""The audit log: one row per expectation per write-audit-publish attempt (``audit_results``).

It is an append-only log: every attempt is recorded, passed or failed, so a failed audit can be inspected (with the
branch it kept) and a passed one traced. It is excluded from table-fingerprint idempotence checks for that reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import AuditReport, CommitContext, retry_commits, rows_to_arrow
from madlake.names import Table

log = logging.getLogger(__name__)


#: One audit outcome: (table name, partition key, branch, audited snapshot id, report, published).
AuditEntry = tuple[str, str, str, int, AuditReport, bool]


def record_audits(ctx: CommitContext, entries: Sequence[AuditEntry]) -> int:
    """Append one ``audit_results`` row per expectation of every entry, in a single commit. Returns the rows added."""
    now = datetime.now(UTC)
    rows = [
        {
            "table_name": table_name,
            "partition_key": partition_key,
            "branch": branch,
            "snapshot_id": snapshot_id,
            "run_id": ctx.run_id,
            "expectation": r.expectation,
            "success": r.success,
            "observed": r.observed[:4000],
            "audited_at": now,
            "published": published,
            "rows": report.rows,
        }
        for table_name, partition_key, branch, snapshot_id, report, published in entries
        for r in report.results
    ]
    if not rows:
        return 0
    table = load_table(Table.AUDIT_RESULTS)
    data = rows_to_arrow(table, rows)
    retry_commits(lambda: table.append(data, snapshot_properties=ctx.properties()), table, "audit log")
    return len(rows)


def audit_recorder(ctx: CommitContext):  # type: ignore[no-untyped-def]
    """A recorder for :func:`madlake.lakehouse.writes.write_audit_publish` that appends to ``audit_results``."""

    def record(
        table_name: str, partition_key: str, branch: str, snapshot_id: int, report: AuditReport, published: bool
    ) -> None:
        record_audits(ctx, [(table_name, partition_key, branch, snapshot_id, report, published)])
        for r in report.results:
            level = logging.INFO if r.success else logging.ERROR
            log.log(
                level,
                "audit %s %s: %s %s (%s)",
                table_name,
                partition_key,
                r.expectation,
                "passed" if r.success else "FAILED",
                r.observed,
            )

    return record
