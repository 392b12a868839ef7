"""``madlake ask``: the MAD questions (``madlake/sql/questions``), listed and answered from the gold tables.

Each question is one file: a Trino ``select`` with a metadata header, the one definition ``madlake ask``, the demo and
the dashboard's answer cards all use::

    -- question: What is the most popular open-source OLAP database?
    -- category: olap_database                (optional: the category the answer is about; its card's chart)
    -- method: how the answer is computed, and what it is based on
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

from madlake.sql.files import for_engine, layer_dir, read_sql

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.config import Settings
    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

QUERIES_DIR: Path = layer_dir("questions")
#: The header keys of a question file (see the module docstring).
_HEADER_KEYS = ("question", "category", "method", "params")


@dataclass(frozen=True)
class Query:
    name: str
    question: str
    method: str
    sql: str
    params: dict[str, str] = field(default_factory=dict)
    #: the category the answer is about (header ``category``, else the default of a ``category`` parameter)
    category: str | None = None


def _parse(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    header: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        head, sep, rest = body.partition(":")
        if sep and head in _HEADER_KEYS:
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
        path.stem,
        " ".join(header["question"]),
        " ".join(header.get("method", [])),
        text.strip().rstrip(";"),
        params,
        " ".join(header.get("category", [])) or params.get("category"),
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


def default_engine(settings: Settings, *, as_of: str | None = None) -> SqlEngine:
    """The engine the questions run on: Athena on aws; else DuckDB with the analyst views (at tag ``as_of``).

    Raises:
        KeyError: an unknown ``as_of`` tag. ValueError: ``as_of`` on the aws profile (not supported there yet).
    """
    if settings.profile == "aws":
        if as_of:
            raise ValueError("--as-of reads Iceberg tags through the local engine; on Athena use FOR VERSION AS OF")
        from madlake.sql.engine import AthenaEngine  # noqa: PLC0415 - boto3: `import madlake.cli` loads this module

        return AthenaEngine(settings)
    from madlake.metrics.views import local_engine  # noqa: PLC0415 - duckdb, pyarrow: kept out of `import madlake.cli`
    from madlake.pipelines.gold import snapshot_ids_at  # noqa: PLC0415 - pyiceberg: kept out of `import madlake.cli`

    return local_engine(settings, snapshot_ids=snapshot_ids_at(as_of) if as_of else None)


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
    from madlake.config import get_settings  # noqa: PLC0415 - pydantic-settings: kept out of `import madlake.cli`

    query = get_query(name)
    unknown = set(params or {}) - set(query.params)
    if unknown:
        raise KeyError(f"query {name} has no parameter(s) {sorted(unknown)}; it takes {sorted(query.params)}")
    values: list[Any] = [{**query.params, **(params or {})}[k] for k in query.params]
    if engine is None:
        engine = default_engine(settings or get_settings(), as_of=as_of)
    return engine.query(for_engine(query.sql, engine.dialect), values or None)


def _cmd(args: argparse.Namespace) -> int:
    from madlake.sql.engine import format_result  # noqa: PLC0415 - duckdb, pyarrow: kept out of `import madlake.cli`

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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="list the MAD questions, or answer one from the gold tables")
    p.add_argument("name", nargs="?", help="query name (omit to list them)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a query parameter")
    p.add_argument("--as-of", metavar="TAG", help="read the gold tables at a monthly publish tag, e.g. monthly-2026-03")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(handler=_cmd)


def _month(value: Any) -> str:
    return f"{value:%Y-%m}" if value is not None else "?"


def _basis(row: dict[str, Any]) -> str:
    """What a tool's place rests on: n signals, coverage, or "judged on one signal only"."""
    n = row.get("n_signals") or 0
    if n == 1:
        return f"judged on one signal only: {row.get('signals') or row.get('compared_on')}"
    coverage = row.get("coverage")
    cov = f", coverage {coverage:.2f}" if coverage is not None else ""
    return f"{n} signals: {row.get('signals') or ''}{cov}".replace(": ,", ":")


def _scored(row: dict[str, Any]) -> str:
    """A tool with its score and what the score rests on."""
    return f"{row['tool_name']} (score {row['score']:.1f}, {_basis(row)})"


def _growth(row: dict[str, Any]) -> str:
    pct = row.get("growth_yoy_pct")
    if pct is None:
        text = f"{row['tool_name']} (no growth)"
    elif row.get("score") == 100.0 and pct == 0:
        text = f"{row['tool_name']} (the category leader, kept its lead)"
    else:
        text = f"{row['tool_name']} {pct:+.1f}% vs the leader"
    on = row.get("compared_on") or ""
    detail = f"on {on.replace(',', '+')}" if on else "no common signal"
    if on and "," not in on:
        detail += ", judged on one signal only"
    if row.get("spans_break"):
        detail += ", spans a PyPI method break"
    if row.get("downloads_share_yoy_pct") is not None:
        detail += f"; share of the category's downloads {row['downloads_share_yoy_pct']:+.1f}%"
    return f"{text} ({detail})"


def _yoy_span(row: dict[str, Any]) -> str:
    """The two months a year-over-year answer compares (its first row's)."""
    return f"{_month(row['compared_with'])} -> {_month(row['month'])}, relative to the category"


def _answer_olap(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no open-source OLAP database has a signal yet"
    top = rows[0]
    runner = f"; then {', '.join(r['tool_name'] for r in rows[1:3])}" if len(rows) > 1 else ""
    return f"as of {_month(top['month'])}: {_scored(top)}{runner}"


def _answer_nosql(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no NoSQL database has 12 months of history yet"
    top = rows[0]
    nxt = f"; next {_growth(rows[1])}" if len(rows) > 1 else ""
    return f"{_yoy_span(top)}: {_growth(top)}{nxt}"


def _answer_formats(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no file format has 12 months of history yet"
    rising = [_growth(r) for r in rows if r["trend"] == "rising"] or ["none"]
    falling = [_growth(r) for r in rows if r["trend"] == "falling"] or ["none"]
    return f"{_yoy_span(rows[0])}: rising {'; '.join(rising)} | falling {'; '.join(falling)}"


def _answer_mlops(rows: list[dict[str, Any]]) -> str:
    by = {r["period"]: r for r in rows}
    parts = []
    for period in ("three years ago", "today"):
        r = by.get(period)
        if r is None:
            continue
        if r.get("tool_name") is None:
            parts.append(f"{period} ({_month(r['month'])}): no data")
        else:
            parts.append(f"{period} ({_month(r['month'])}): {_scored(r)}")
    return "; ".join(parts) or "no MLOps framework has a signal yet"


_SHORT_ANSWERS = {
    "most_popular_open_source_olap": _answer_olap,
    "fastest_growing_nosql": _answer_nosql,
    "file_formats_rising_falling": _answer_formats,
    "top_mlops_then_and_now": _answer_mlops,
}
#: The four MAD questions the demo answers in one sentence each, in the demo's order.
DEMO_QUESTIONS = tuple(_SHORT_ANSWERS)


def short_answer(name: str, rows: list[dict[str, Any]]) -> str:
    """One sentence answering query ``name`` from its rows: the month it is as of and what it is based on.

    Raises:
        KeyError: ``name`` is not one of :data:`DEMO_QUESTIONS`.
    """
    if name not in _SHORT_ANSWERS:
        raise KeyError(f"no short answer for query {name!r}; known: {', '.join(DEMO_QUESTIONS)}")
    return _SHORT_ANSWERS[name](rows)


def demo_answers(engine: SqlEngine | None = None) -> list[tuple[str, str]]:
    """The four MAD questions and their one-sentence answers from the gold tables (popularity index v2)."""
    out = []
    for name in DEMO_QUESTIONS:
        query = get_query(name)
        try:
            rows = run_query(name, engine=engine).to_pylist()
            text = short_answer(name, rows)
        except Exception as exc:
            log.exception("query %s failed", name)
            text = f"(failed: {exc})"
        out.append((query.question, text))
    return out


def demo_report(engine: SqlEngine | None = None) -> list[str]:
    """Lines for ``madlake demo``: the four MAD answers, each with the month it is as of and what it rests on.

    Empty when the lakehouse has no popularity index yet. Labels sample data when any row used is sample.
    """
    if engine is None:
        from madlake.config import get_settings  # noqa: PLC0415 - pydantic-settings: kept out of `import madlake.cli`

        settings = get_settings()
        if settings.profile != "aws":
            from madlake.sql.engine import LocalEngine  # noqa: PLC0415 - duckdb: kept out of `import madlake.cli`

            if "popularity_index" not in LocalEngine(settings).available_tables():
                return []
        engine = default_engine(settings)
    span = engine.query(for_engine(read_sql("reports", "index_span"), engine.dialect)).to_pylist()[0]
    if span["last"] is None:
        return []
    label = " (includes SAMPLE DATA)" if span["sample"] else ""
    header = (
        f"Answers to the MAD questions, popularity index v2 over {_month(span['first'])} .. {_month(span['last'])}"
        f"{label}  (madlake ask lists them; method: docs/metrics.md):"
    )
    lines = ["", header]
    for question, text in demo_answers(engine):
        lines += [f"- {question}", f"    {text}"]
    return lines
