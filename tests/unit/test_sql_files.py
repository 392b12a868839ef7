"""The SQL folders (``madlake/sql/<layer>``): one read-side dialect, each file loadable, quoting in one place."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from madlake.sql.files import (
    LAYERS,
    for_engine,
    layer_dir,
    quote_ident,
    quote_literal,
    read_layer,
    read_sql,
    sql_names,
    transpile,
)

TRINO_LAYERS = [layer for layer in LAYERS if layer != "sources"]


@pytest.mark.parametrize("layer", TRINO_LAYERS)
def test_every_file_is_one_trino_statement_that_transpiles_to_duckdb(layer: str) -> None:
    statements = read_layer(layer)
    assert statements, f"{layer_dir(layer)} holds no .sql file"
    for name, sql in statements.items():
        trees = [t for t in sqlglot.parse(sql, read="trino") if t is not None]
        assert len(trees) == 1, f"{layer}/{name}.sql: one statement per file"
        assert isinstance(trees[0], sqlglot.exp.Query), f"{layer}/{name}.sql is not a query"
        duck = transpile(sql)
        assert sqlglot.parse_one(duck, read="duckdb") is not None
        assert for_engine(sql, "trino") == sql  # Athena runs the file as written
        assert for_engine(sql, "duckdb") == duck


def test_source_queries_parse_in_their_engines_dialect() -> None:
    assert sql_names("sources") == ["pypi_downloads_bigquery", "pypi_downloads_clickpy"]
    for name in sql_names("sources"):
        dialect = name.rsplit("_", 1)[1]
        assert sqlglot.parse_one(read_sql("sources", name), read="bigquery" if dialect == "bigquery" else "clickhouse")


def test_each_mad_question_has_one_file_and_its_metadata() -> None:
    from madlake.metrics.ask import DEMO_QUESTIONS, list_queries

    queries = {q.name: q for q in list_queries()}
    assert set(queries) == set(sql_names("questions"))
    assert set(DEMO_QUESTIONS) <= set(queries)
    for q in queries.values():
        assert q.question.endswith("?") and q.method, q.name
        assert q.category, f"{q.name}: the category its answer is about"
    # no other layer holds a question's SQL under its name (one definition, used by madlake ask and the dashboard)
    others = {name for layer in TRINO_LAYERS if layer != "questions" for name in sql_names(layer)}
    assert not set(queries) & others


def test_unknown_layer_and_file_are_named() -> None:
    with pytest.raises(ValueError, match="unknown SQL layer 'nope'"):
        layer_dir("nope")
    with pytest.raises(FileNotFoundError, match="no_such_query"):
        read_sql("questions", "no_such_query")


def test_quoting_round_trips_through_duckdb() -> None:
    weird = 'we"ird; drop table x --'
    con = duckdb.connect()
    con.execute(f"create table {quote_ident(weird)} as select {quote_literal(weird)} as {quote_ident('v' + weird)}")
    assert con.execute(f"select * from {quote_ident(weird)}").fetchall() == [(weird,)]
    assert [d[0] for d in con.execute(f"select * from {quote_ident(weird)}").description] == ["v" + weird]
    assert quote_ident('a"b') == '"a""b"' and quote_literal("it's") == "'it''s'"
