"""The Reddit merge: observations of posts and comments folded into ``reddit_submissions``/``reddit_comments``.

The merge contract (:func:`merge_rows`), shared by the load (:mod:`madlake.pipelines.reddit_load`) and the archive
backfill (:mod:`madlake.pipelines.reddit_archive`):

* rows are keyed on ``id``; of all observations of an id (incoming and stored), the newest by ``last_seen_at`` (the
  fetch time of its landing, or the archive's retrieval time) wins for stats and text — an older landing replayed
  after a newer one cannot roll stats back or resurrect text;
* text damaged in transit (U+FFFD where the source sent bytes that were not UTF-8) never overwrites an undamaged
  version of the same column: the newest undamaged observation's text is kept (the stats still refresh);
* deletion and removal are sticky: once any observation says deleted/removed, the row keeps its stats but its
  author, text and raw JSON are cleared, whatever order observations arrive in;
* ``first_seen_at``/``last_seen_at`` are the min/max over observations; ``loaded_at`` is the wall-clock time the row
  was inserted or its content last changed (a reload that changes nothing keeps it, and commits nothing);
* only the month partitions the incoming rows fall into are read and rewritten.

Retry semantics: the ingest writes a new immutable landing per attempt (an interrupted attempt leaves no manifest and
is ignored); the load and the backfill are pure functions of the landings/dumps and the table, so Airflow may retry
them any number of times. The read-reconcile-merge is not atomic against a *concurrent* writer of the same ids
(the merge retries lost commit races, but on a table state read before the race): each Reddit DAG runs with
``max_active_runs=1``; do not backfill a month while a load of the same month runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import And, In

from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import conform, merge, touched_partitions_filter
from madlake.names import Table
from madlake.sql.files import quote_ident as _q

if TYPE_CHECKING:
    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

SOURCE = "reddit"

#: Columns cleared when an item is deleted or removed (its text and who wrote it).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    Table.REDDIT_SUBMISSIONS: ("author", "title", "selftext", "raw_json"),
    Table.REDDIT_COMMENTS: ("author", "body", "flair", "raw_json"),
}
#: Bookkeeping columns: a change in these alone is not a content change (``loaded_at`` is not bumped).
_BOOKKEEPING = ("first_seen_at", "last_seen_at", "loaded_at", "source", "raw_json")


@dataclass(frozen=True)
class MergeSummary:
    table: str
    incoming: int
    inserted: int
    changed: int
    committed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "incoming": self.incoming,
            "inserted": self.inserted,
            "changed": self.changed,
            "committed": self.committed,
        }


def reconcile_sql(columns: Sequence[str], text_columns: Sequence[str]) -> str:
    """The DuckDB query folding observations into one row per id (see the module docstring for the rules).

    Reads ``obs`` (incoming rows with ``__src = 1`` and a running ``__ord``, plus the stored versions of the same
    ids with ``__src = 0``) and ``stored``; binds ``?`` = the wall-clock time for ``loaded_at``. The newest
    observation is the highest ``(last_seen_at, __src, __ord)``: a tie between a stored and an incoming row goes to
    the incoming one, and within one batch the later row wins.
    """
    special = {"id", "is_deleted", "is_removed", "first_seen_at", "last_seen_at", "loaded_at"}
    gone = "(bool_or(is_deleted) or bool_or(is_removed))"
    aggs = []
    for c in columns:
        if c in special:
            continue
        if c in text_columns:
            # A version whose text carries U+FFFD (bytes that were not UTF-8, replaced on decoding) never overwrites
            # one without: the newest undamaged version wins when there is one.
            clean = f"({_q(c)} is null or strpos({_q(c)}, '\ufffd') = 0)"
            newest = (
                f"case when bool_or({clean}) then arg_max_null({_q(c)}, __rank) filter (where {clean}) "
                f"else arg_max_null({_q(c)}, __rank) end"
            )
            aggs.append(f"case when {gone} then null else {newest} end as {_q(c)}")
        else:
            aggs.append(f"arg_max({_q(c)}, __rank) as {_q(c)}")  # newest non-null: an archive gap erases nothing
    content = [c for c in columns if c not in _BOOKKEEPING]
    changed = " or ".join(f"a.{_q(c)} is distinct from e.{_q(c)}" for c in content)
    differs = " or ".join(f"a.{_q(c)} is distinct from e.{_q(c)}" for c in columns if c != "loaded_at")
    select = ", ".join(
        "case when e.id is null or (" + changed + ") then ?::timestamptz else e.loaded_at end as loaded_at"
        if c == "loaded_at"
        else f"a.{_q(c)}"
        for c in columns
    )
    return f"""
        with ranked as (
            select *, row_number() over (order by last_seen_at, __src, __ord) as __rank from obs
        ), agg as (
            select id, {", ".join(aggs)},
                   bool_or(is_deleted) as is_deleted, bool_or(is_removed) as is_removed,
                   min(first_seen_at) as first_seen_at, max(last_seen_at) as last_seen_at
            from ranked group by id
        )
        select {select}, e.id is null as __new, e.id is not null and ({changed}) as __changed,
               e.id is null or ({differs}) as __differs
        from agg a left join stored e on a.id = e.id
    """


def _columns_to_arrow(schema: pa.Schema, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Dict rows → Arrow through one struct array (about 2x faster than ``Table.from_pylist`` at 100k rows)."""
    return pa.Table.from_struct_array(pa.array(rows, type=pa.struct(list(schema)))).cast(schema)


def merge_rows(
    table_name: str,
    rows: Sequence[dict[str, Any]] | pa.Table,
    ctx: CommitContext,
    now: datetime | None = None,
) -> MergeSummary:
    """Merge observations ``rows`` (table-shaped dicts or Arrow) into ``table_name`` under this module's contract.

    Reads the month partitions the rows fall into, folds incoming and stored observations per id in DuckDB
    (:func:`reconcile_sql`), and hands the result to :func:`madlake.lakehouse.writes.merge` scoped to those
    partitions, which commits nothing when nothing changed.
    """
    now = now or datetime.now(UTC)
    table = load_table(table_name)
    incoming = rows if isinstance(rows, pa.Table) else _columns_to_arrow(table.schema().as_arrow(), rows)
    if incoming.num_rows == 0:
        return MergeSummary(table_name, 0, 0, 0, False)
    incoming = conform(table, incoming)
    columns = [f.name for f in table.schema().fields]
    scope = touched_partitions_filter(table, incoming)
    # Only the stored versions of the incoming ids take part in the fold: read just those (not the whole partitions).
    ids = pc.unique(incoming.column("id")).to_pylist()
    stored = table.scan(row_filter=And(scope, In("id", ids))).to_arrow()
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("incoming_rows", incoming)
        con.register("stored", stored)
        con.execute(
            "create temp table obs as "
            "select *, 1 as __src, row_number() over () as __ord from incoming_rows "
            "union all by name "
            "select *, 0 as __src, 0 as __ord from stored where id in (select id from incoming_rows)"
        )
        folded = con.sql(reconcile_sql(columns, TEXT_COLUMNS[table_name]), params=[now]).to_arrow_table()
    finally:
        con.close()
    assert folded is not None
    new = int(pc.sum(folded.column("__new")).as_py() or 0)
    changed = int(pc.sum(folded.column("__changed")).as_py() or 0)
    # Rows identical to their stored version (bookkeeping included) need no rewrite; if that is all of them, the
    # partitions are not even rewritten (a reload of the same landing costs one read).
    differing = folded.filter(folded.column("__differs")).drop(["__new", "__changed", "__differs"])
    if differing.num_rows:
        committed = not merge(table, conform(table, differing), ("id",), ctx, row_filter=scope).skipped
    else:
        committed = False
    log.info(
        "%s: %d incoming row(s), %d id(s): %d new, %d changed, %d unchanged; %s",
        table_name, incoming.num_rows, folded.num_rows, new, changed, folded.num_rows - new - changed,
        "committed" if committed else "nothing to commit",
    )  # fmt: skip
    return MergeSummary(table_name, folded.num_rows, new, changed, committed)
