"""``madlake ask``: the MAD questions as SQL files (``madlake/queries``), listed and answered from the gold tables.

Each query is one Trino ``select`` with a header::

    -- question: What is the most popular open-source OLAP database?
    -- method: how the answer is computed
    -- params: category=orchestration        (optional: values bound to the ``?`` placeholders, in order)

On the local profile it is transpiled to DuckDB and run over the analyst views; on aws it runs in Athena as is.
``--as-of monthly-YYYY-MM`` reads the gold tables at that monthly publish tag (local profile), reproducing the answer
as it was published.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.config import Settings
    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"


@dataclass(frozen=True)
class Query:
    name: str
    question: str
    method: str
    sql: str
    params: dict[str, str] = field(default_factory=dict)


def _parse(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    header: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        head, sep, rest = body.partition(":")
        if sep and head in ("question", "method", "params"):
            key = head
            header[key] = [rest.strip()]
        elif key:
            header[key].append(body)
    if "question" not in header:
        raise ValueError(f"{path}: the first line must be '-- question: ...'")
    params: dict[str, str] = {}
    for item in " ".join(header.get("params", [])).split():
        k, _, v = item.partition("=")
        params[k] = v
    return Query(
        path.stem, " ".join(header["question"]), " ".join(header.get("method", [])), text.strip().rstrip(";"), params
    )


def list_queries() -> list[Query]:
    """Every query in :data:`QUERIES_DIR`, by name."""
    return [_parse(p) for p in sorted(QUERIES_DIR.glob("*.sql"))]


def get_query(name: str) -> Query:
    """The query ``name``; ``KeyError`` lists the known names."""
    queries = {q.name: q for q in list_queries()}
    if name not in queries:
        raise KeyError(f"unknown query {name!r}; known: {', '.join(sorted(queries))}")
    return queries[name]


def run_query(
    name: str,
    params: dict[str, str] | None = None,
    *,
    as_of: str | None = None,
    engine: SqlEngine | None = None,
    settings: Settings | None = None,
) -> pa.Table:
    """Answer query ``name`` (params override the file's defaults) and return the rows.

    Raises:
        KeyError: unknown query or parameter, or an unknown ``as_of`` tag.
        ValueError: ``as_of`` on the aws profile (not supported there yet).
        madlake.sql.engine.QueryError: the engine failed (its reason is in the message).
    """
    from madlake.config import get_settings
    from madlake.metrics.runner import transpile

    query = get_query(name)
    unknown = set(params or {}) - set(query.params)
    if unknown:
        raise KeyError(f"query {name} has no parameter(s) {sorted(unknown)}; it takes {sorted(query.params)}")
    values: list[Any] = [{**query.params, **(params or {})}[k] for k in query.params]
    settings = settings or get_settings()
    if engine is None:
        if settings.profile == "aws":
            if as_of:
                raise ValueError("--as-of reads Iceberg tags through the local engine; on Athena use FOR VERSION AS OF")
            from madlake.sql.engine import AthenaEngine

            engine = AthenaEngine(settings)
        else:
            from madlake.metrics.views import local_engine
            from madlake.pipelines.gold import snapshot_ids_at

            engine = local_engine(settings, snapshot_ids=snapshot_ids_at(as_of) if as_of else None)
    sql = query.sql if engine.dialect == "trino" else transpile(query.sql, engine.dialect)
    return engine.query(sql, values or None)


def answers_text(engine: SqlEngine | None = None, params: dict[str, dict[str, str]] | None = None) -> str:
    """Every question with its answer table (used at the end of ``madlake demo``); ``params`` by query name."""
    from madlake.sql.engine import format_result

    if engine is None:
        from madlake.config import get_settings

        if get_settings().profile != "aws":
            from madlake.metrics.views import local_engine

            engine = local_engine()
    blocks = []
    for q in list_queries():
        try:
            result = format_result(run_query(q.name, (params or {}).get(q.name), engine=engine), "table")
        except Exception as exc:
            log.exception("query %s failed", q.name)
            result = f"(failed: {exc})"
        shown = {**q.params, **(params or {}).get(q.name, {})}
        suffix = f"  [{', '.join(f'{k}={v}' for k, v in shown.items())}]" if shown else ""
        blocks.append(f"{q.question}{suffix}\n{result}")
    return "\n\n".join(blocks)


def _cmd(args: argparse.Namespace) -> int:
    from madlake.sql.engine import format_result

    if not args.name:
        for q in list_queries():
            shown = f"  [params: {', '.join(f'{k}={v}' for k, v in q.params.items())}]" if q.params else ""
            print(f"{q.name:34} {q.question}{shown}")
        return 0
    params: dict[str, str] = {}
    for item in args.param or []:
        k, sep, v = item.partition("=")
        if not sep:
            raise SystemExit(f"--param takes NAME=VALUE, got {item!r}")
        params[k] = v
    query = get_query(args.name)
    if args.format == "table":
        print(query.question)
    print(format_result(run_query(args.name, params, as_of=args.as_of), args.format))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="list the MAD questions, or answer one from the gold tables")
    p.add_argument("name", nargs="?", help="query name (omit to list them)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a query parameter")
    p.add_argument("--as-of", metavar="TAG", help="read the gold tables at a monthly publish tag, e.g. monthly-2026-03")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(handler=_cmd)


def demo_report() -> list[str]:
    """Lines for ``madlake demo``: every MAD question with its answer from the gold tables (labelled sample data)."""
    from madlake.sql.engine import LocalEngine

    if "popularity_index" not in LocalEngine().available_tables():
        return []
    span = (
        LocalEngine()
        .query("select max(metric_date) as last, bool_or(is_sample) as sample from tool_daily_metrics")
        .to_pylist()[0]
    )
    if span["last"] is None:
        return []
    label = " (includes SAMPLE DATA: generated from real totals)" if span["sample"] else ""
    header = f"Answers to the MAD questions, gold data as of {span['last']}{label}  (madlake ask lists them):"
    # The demo's Reddit data covers a few subreddits: ask about the category they discuss most.
    busiest = (
        LocalEngine()
        .query(
            "select c.category from tool_daily_metrics m join dim_tools t using (tool_id) "
            "cross join unnest(t.categories) as c(category) "
            "where m.metric_date = (select max(metric_date) from tool_daily_metrics where mentions_28d > 0) "
            "group by c.category order by sum(m.mentions_28d) desc, c.category limit 1"
        )
        .to_pylist()
    )
    params = (
        {"most_loved_and_criticised": {"category": busiest[0]["category"], "min_mentions": "1"}} if busiest else None
    )
    return ["", header, "", *answers_text(params=params).splitlines()]
