"""Dead letters: records a pipeline could not accept, kept with the reason and the raw payload.

Contract: a run writes the dead letters of one (source, entity, run day) in one call, which *replaces* that
(source, entity, run day)'s earlier dead letters, so rerunning a day never duplicates them. Bad data never stops a
run: the caller loads the good records and reports the rejected count.

Dead letters become visible together with the data they belong to: a pipeline writes them *after* its data commit
(for write-audit-publish, in ``on_published`` of :func:`madlake.lakehouse.writes.write_audit_publish`), never before
the audit. A rerun whose audit fails therefore leaves the published day with the rejections of its own publish, not
those of the failed attempt (which are logged). Reasons and payloads are stored redacted
(:mod:`madlake.redaction`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pyiceberg.expressions import And, EqualTo

from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext, WriteResult, replace_partition, rows_to_arrow
from madlake.names import Table
from madlake.redaction import redact

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 65_536


@dataclass(frozen=True)
class Rejection:
    """One rejected record. ``raw`` may be anything (bytes, dict, str); it is stored as text, truncated."""

    reason: str
    raw: Any
    record_id: str | None = None


def _shrink(value: Any, depth: int = 0) -> Any:
    """``value`` with every long string cut to the payload budget, so a 200 MB field is never serialized whole."""
    if isinstance(value, str):
        return value if len(value) <= MAX_PAYLOAD_CHARS else value[:MAX_PAYLOAD_CHARS]
    if depth > 64:
        return "...[nested deeper than 64 levels]"
    if isinstance(value, dict):
        return {k: _shrink(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shrink(v, depth + 1) for v in value]
    return value


def payload_text(raw: Any) -> str:
    """The raw payload as storable text: JSON for structures, replacement characters for undecodable bytes."""
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[: MAX_PAYLOAD_CHARS * 4]).decode("utf-8", errors="replace")
    elif isinstance(raw, dict | list | tuple):
        raw = _shrink(raw)
        try:
            text = json.dumps(raw, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(raw)
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    elif isinstance(raw, str):
        if len(raw) > MAX_PAYLOAD_CHARS:  # cut before copying: the text may be hundreds of MB
            cut = len(raw) - MAX_PAYLOAD_CHARS
            head = raw[:MAX_PAYLOAD_CHARS].encode("utf-8", errors="replace").decode("utf-8")
            return head + f"...[truncated {cut} chars]"
        text = raw.encode("utf-8", errors="replace").decode("utf-8")
    else:
        try:
            text = json.dumps(raw, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(raw)
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    if len(text) > MAX_PAYLOAD_CHARS:
        text = text[:MAX_PAYLOAD_CHARS] + f"...[truncated {len(text) - MAX_PAYLOAD_CHARS} chars]"
    return text


def write_dead_letters(
    source: str, entity: str, run_day: date, rejections: Sequence[Rejection], ctx: CommitContext
) -> WriteResult:
    """Replace the dead letters of (``source``, ``entity``, ``run_day``) with ``rejections`` (may be empty)."""
    table = load_table(Table.REJECTED_RECORDS)
    now = datetime.now(UTC)
    rows = [
        {
            "source": source,
            "entity": entity,
            "run_id": ctx.run_id,
            "record_id": None if r.record_id is None else str(r.record_id)[:512],
            "reason": redact(r.reason.encode("utf-8", errors="replace").decode("utf-8"))[:4000],
            "raw_payload": redact(payload_text(r.raw)),
            "rejected_at": now,
            "run_date": run_day.isoformat(),
        }
        for r in rejections
    ]
    scope = And(EqualTo("source", source), And(EqualTo("entity", entity), EqualTo("run_date", run_day.isoformat())))
    result = replace_partition(table, rows_to_arrow(table, rows), scope, ctx)
    if rows:
        log.warning("%s %s %s: %d record(s) rejected to %s", source, entity, run_day, len(rows), Table.REJECTED_RECORDS)
    return result
