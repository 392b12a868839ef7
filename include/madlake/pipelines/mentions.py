"""``reddit_mentions``: find tracked tools in every Reddit item loaded or changed since the last run, and enrich them.

Incremental by **load time**, not by created date: the watermark is the largest source ``loaded_at`` already
processed, stored as a snapshot property (``madlake.mentions.source-watermark``) on the commit that processed it, so a
late item (an old post loaded today, or an edited one) is picked up by the next run. A run:

1. reads submissions and comments with ``loaded_at`` > watermark (or since ``since``; or all with ``reprocess_all``);
2. extracts mentions (catalog-driven, :mod:`madlake.mentions.extract`) from title + body;
3. enriches each (item, tool) with the LLM (when a ``madlake_llm`` connection is set and the method allows) or the
   offline AFINN lexicon;
4. replaces **all rows of the processed items** (``content_id IN (...)``, in chunks of 5,000 items per commit), so an
   item that lost a mention loses its row and a rerun never duplicates.

Failure semantics: each chunk is one atomic Iceberg commit carrying the watermark of the items it contains (chunks go
in ``loaded_at`` order), so a run that dies half-way resumes after the last committed chunk; rerunning a chunk
replaces the same rows. Deleted or removed items (text cleared) are reprocessed into zero rows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pyiceberg.expressions import AlwaysFalse, AlwaysTrue, GreaterThan, In

from madlake.config import get_settings
from madlake.lakehouse.deadletter import write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext, replace_partition, rows_to_arrow
from madlake.mentions import lexicon
from madlake.mentions.extract import MentionExtractor
from madlake.mentions.llm import LLMEnricher, llm_config_from_connection
from madlake.names import Table
from madlake.orchestration.request import RunRequest

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table as IcebergTable

    from madlake.mentions.models import Enrichment

log = logging.getLogger(__name__)

WATERMARK_PROPERTY = "madlake.mentions.source-watermark"
CHUNK = 5_000
MethodChoice = Literal["auto", "llm", "lexicon"]


@dataclass(frozen=True)
class Item:
    content_id: str
    content_type: str
    subreddit: str
    text: str
    created_at: datetime
    loaded_at: datetime


def read_watermark(table: IcebergTable) -> datetime | None:
    """The watermark of the newest commit on main's history that carries one (maintenance commits do not)."""
    snap = table.current_snapshot()
    by_id = {s.snapshot_id: s for s in table.metadata.snapshots}
    while snap is not None:
        value = (snap.summary.additional_properties if snap.summary else {}).get(WATERMARK_PROPERTY)
        if value:
            return datetime.fromisoformat(value)
        snap = by_id.get(snap.parent_snapshot_id) if snap.parent_snapshot_id else None
    return None


def _source_rows(since: datetime | None) -> list[Item]:

    row_filter: Any = GreaterThan("loaded_at", since.isoformat()) if since else AlwaysTrue()
    items: list[Item] = []
    sources = (
        (Table.REDDIT_SUBMISSIONS, "submission",
         ("fullname", "subreddit", "title", "selftext", "created_at", "loaded_at")),
        (Table.REDDIT_COMMENTS, "comment", ("fullname", "subreddit", "body", "created_at", "loaded_at")),
    )  # fmt: skip
    for name, kind, fields in sources:
        data = load_table(name).scan(row_filter=row_filter, selected_fields=fields).to_arrow()
        cols = {f: data.column(f).to_pylist() for f in fields}  # column-wise: ~5x faster than row dicts
        if kind == "submission":
            texts = ["\n\n".join(p for p in pair if p) for pair in zip(cols["title"], cols["selftext"], strict=True)]
        else:
            texts = [b or "" for b in cols["body"]]
        items += map(Item, cols["fullname"], [kind] * data.num_rows, cols["subreddit"], texts, cols["created_at"],
                     cols["loaded_at"])  # fmt: skip
        log.info("%s: %d items loaded or changed since %s", name, data.num_rows, since or "the beginning")
    items.sort(key=lambda i: (i.loaded_at, i.content_id))
    return items


def _ids_with_rows(table: IcebergTable) -> set[str]:
    """The ``content_id`` of every item that has a row in ``reddit_mentions`` (one column: cheap)."""
    if table.current_snapshot() is None:
        return set()
    return set(table.scan(selected_fields=("content_id",)).to_arrow().column("content_id").to_pylist())


def _chunks(items: list[Item], size: int) -> Iterator[list[Item]]:
    """Chunks of about ``size`` items in ``loaded_at`` order that never split one ``loaded_at`` value.

    A load stamps thousands of rows with the same ``loaded_at``; a chunk's watermark is its last ``loaded_at``, so
    splitting those rows between two commits would let a crash in between skip the rest of them for good.
    """
    start = 0
    while start < len(items):
        end = min(start + size, len(items))
        while end < len(items) and items[end].loaded_at == items[end - 1].loaded_at:
            end += 1
        yield items[start:end]
        start = end


def _context(request: RunRequest, watermark: datetime) -> CommitContext:

    base = request.commit("reddit-mentions")

    @dataclass(frozen=True)
    class _WithWatermark(CommitContext):
        def properties(self) -> dict[str, str]:
            return {**super().properties(), WATERMARK_PROPERTY: watermark.isoformat()}

    return _WithWatermark(base.dag_id, base.run_id, base.source)


def choose_enricher(method: MethodChoice = "auto", llm: LLMEnricher | None = None) -> Any:
    """The enrichment function ``(text, {tool: spans}) -> [Enrichment]`` for this run.

    ``auto``: the LLM when the ``madlake_llm`` connection exists and the profile is not ``local``; otherwise the
    lexicon. ``llm`` forces the LLM (raises when the connection is missing); ``lexicon`` forces the lexicon.
    """
    if method == "lexicon":
        return lexicon.enrich
    if method == "auto" and get_settings().profile == "local":
        log.info("Enrichment: offline lexicon (local profile)")
        return lexicon.enrich

    if llm is not None:
        return llm.enrich
    config = llm_config_from_connection()
    if config is None:
        if method == "llm":
            raise RuntimeError("method=llm but no 'madlake_llm' Airflow connection is configured")
        log.info("Enrichment: offline lexicon (no LLM connection)")
        return lexicon.enrich
    log.info("Enrichment: LLM %s at %s", config.model, config.base_url)
    return LLMEnricher(config).enrich


def _rows(items: list[Item], enrich: Any, now: datetime) -> tuple[list[dict[str, Any]], int]:

    extractor = MentionExtractor.for_catalog()
    rows: list[dict[str, Any]] = []
    mentioned = 0
    for item, found in zip(items, extractor.find_many([i.text for i in items]), strict=True):
        if not found:
            continue
        mentioned += 1
        spans: dict[str, list[tuple[int, int]]] = {}
        for s, e, tool_id in found:
            spans.setdefault(tool_id, []).append((s, e))
        enriched: list[Enrichment] = enrich(item.text, spans)
        for en in enriched:
            rows.append({
                "content_id": item.content_id, "content_type": item.content_type, "subreddit": item.subreddit,
                "tool_id": en.tool_id, "mention_count": len(spans[en.tool_id]),
                "sentiment_score": en.sentiment_score, "sentiment_label": en.sentiment_label, "summary": en.summary,
                "usage_kind": en.usage_kind, "method": en.method, "model": en.model,
                "prompt_version": en.prompt_version, "created_at": item.created_at,
                "source_loaded_at": item.loaded_at, "processed_at": now,
            })  # fmt: skip
    return rows, mentioned


def process(
    *,
    since: datetime | None = None,
    reprocess_all: bool = False,
    method: MethodChoice = "auto",
    chunk: int = CHUNK,
    llm: LLMEnricher | None = None,
    request: RunRequest | None = None,
) -> dict[str, Any]:
    """Process every Reddit item loaded or changed after the watermark (see the module docstring).

    Args:
        since: process items loaded after this instant instead of the watermark (a backfill of a load window).
        reprocess_all: process every item (e.g. after a catalog change); replaces all their rows.
        method: ``auto`` | ``llm`` | ``lexicon`` (see :func:`choose_enricher`).
        chunk: items per commit.
        llm: an :class:`~madlake.mentions.llm.LLMEnricher` to use instead of one built from the connection.
        request: the run (its DAG and run id tag the commits; ``None``: a standalone run).

    Returns:
        counts for XCom: items read, items with a mention, rows written, commits, the new watermark.
    """
    request = request or RunRequest.for_cli()
    table = load_table(Table.REDDIT_MENTIONS)
    start_from = None if reprocess_all else (since or read_watermark(table))
    items = _source_rows(start_from)
    enrich = choose_enricher(method, llm)
    now = datetime.now(UTC)
    totals: dict[str, Any] = {"items": len(items), "items_with_mentions": 0, "rows": 0, "commits": 0,
                              "since": str(start_from)}  # fmt: skip
    existing = _ids_with_rows(table)
    for batch in _chunks(items, chunk):
        rows, mentioned = _rows(batch, enrich, now)
        df: pa.Table = rows_to_arrow(table, rows)
        # Rows to replace: the batch's items that have rows now or had some before (an edit that dropped every
        # tool). Items with no row either way need no delete, so the filter stays small on a first load.
        ids = sorted({r["content_id"] for r in rows} | (existing & {i.content_id for i in batch}))
        with warnings.catch_warnings():  # pyiceberg warns when a delete matches nothing: expected on a first load
            warnings.simplefilter("ignore", UserWarning)
            replace_partition(
                table, df, In("content_id", ids) if ids else AlwaysFalse(), _context(request, batch[-1].loaded_at)
            )
        totals["items_with_mentions"] += mentioned
        totals["rows"] += len(rows)
        totals["commits"] += 1
        log.info("reddit_mentions: %d items (%d with mentions) -> %d rows; watermark %s",
                 len(batch), mentioned, len(rows), batch[-1].loaded_at.isoformat())  # fmt: skip
    totals["watermark"] = items[-1].loaded_at.isoformat() if items else str(start_from)
    stats = getattr(getattr(enrich, "__self__", None), "stats", None)
    if stats is not None:  # the LLM enricher: report its calls, cache hits and fallbacks; keep its rejections
        totals["llm"] = dict(stats)
        log.info("LLM enrichment: %s", stats)
        rejections = enrich.__self__.rejections
        if rejections:
            write_dead_letters("llm", "mention_enrichment", now.date(), rejections, request.commit("llm"))
    if not items:
        log.info("reddit_mentions: nothing loaded or changed since %s", start_from)
    return totals
