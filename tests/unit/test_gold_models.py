"""The SQL itself: every model, view and query in one dialect (Trino), run both ways through DuckDB, Athena text parsed.

* local path: each model transpiled and materialized in a DuckDB session (``LocalSession``);
* Athena path: the composed ``select`` (all upstream models inlined as CTEs) transpiled to DuckDB must give the same
  rows, and the ``merge into`` / ``create or replace view`` statements must parse as Trino.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlglot
from madlake.names import Table
from sqlglot import exp

END = date(2026, 3, 31)
START = END - timedelta(days=75)


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """76 days of generated sample sources for the whole catalog, gold built over the last 45 days."""
    from madlake.lakehouse.catalog import reset_catalog_cache

    home = tmp_path_factory.mktemp("gold-models") / "lakehouse"
    mp = pytest.MonkeyPatch()
    mp.setenv("MADLAKE_HOME", str(home))
    mp.setenv("MADLAKE_PROFILE", "local")
    reset_catalog_cache()
    from madlake.pipelines.gold import build_gold
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools

    from bench.synth.gold_sources import write_sample_sources

    init_lakehouse()
    load_dim_tools()
    write_sample_sources(START, END)
    build_gold(END, start=END - timedelta(days=44), end=END)
    yield home
    mp.undo()
    reset_catalog_cache()


def test_models_are_lowercase_trino_with_staging_before_marts() -> None:
    from madlake.metrics.runner import MARTS, load_models

    models = load_models()
    assert set(MARTS) <= set(models)
    for name, model in models.items():
        assert name.startswith(("stg_", "int_", "fct_")), name
        code = "\n".join(line for line in model.sql.splitlines() if not line.lstrip().startswith("--"))
        stripped = "".join(part for i, part in enumerate(code.split("'")) if i % 2 == 0)  # outside string literals
        assert stripped == stripped.lower(), f"{name}: SQL keywords must be lowercase"
        sqlglot.parse_one(model.sql, read="trino")
        if name.startswith("stg_"):
            assert not model.models, f"{name}: staging models read sources only"
            assert len(model.tables) == 1, f"{name}: one staging model per source table"
        if name.startswith("fct_"):
            assert not any(t in (Table.PYPI_DOWNLOADS, Table.REDDIT_MENTIONS) for t in model.tables), (
                f"{name}: marts read sources through staging models"
            )


def test_athena_statements_parse_as_trino_merges() -> None:
    from madlake.metrics.runner import MARTS, athena_merge

    for mart, table in MARTS.items():
        statement = athena_merge(mart, START, END)
        tree = sqlglot.parse_one(statement, read="trino")
        assert isinstance(tree, exp.Merge)
        assert tree.this.name == table
        assert "?" not in statement and "date '2026-03-31'" in statement


def test_every_model_runs_on_duckdb_and_the_athena_text_gives_the_same_rows(sample_lake: Path) -> None:
    from madlake.metrics.runner import MARTS, LocalSession, composed_select, load_models, transpile

    day = END - timedelta(days=3)
    with LocalSession(day - timedelta(days=2), day) as session:
        for name in load_models():
            local = session.run(name)
            assert local.num_columns > 0
        for mart in MARTS:
            local = session.run(mart).drop(["computed_at"])
            athena_as_duckdb = session.con.execute(transpile(composed_select(mart, day - timedelta(days=2), day)))
            composed = athena_as_duckdb.to_arrow_table().drop(["computed_at"])
            key = [c for c in local.column_names if c in ("metric_date", "month", "tool_id", "category", "signal")]
            assert local.num_rows > 0 or mart == "fct_tool_breakouts", mart
            order = [(k, "ascending") for k in key]
            assert composed.column_names == local.column_names
            assert _approx_rows(composed.sort_by(order).to_pylist()) == local.sort_by(order).to_pylist(), mart


def _approx_rows(rows: list[dict]) -> list[dict]:
    """Floats compared to 1e-9 relative (parallel sums may differ in the last bits), everything else exactly."""
    return [{k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def test_models_write_every_gold_column(sample_lake: Path) -> None:
    from madlake.metrics.runner import MARTS, LocalSession
    from madlake.tables import get_spec

    with LocalSession(END, END) as session:
        for mart, table in MARTS.items():
            produced = session.run(mart).column_names
            assert produced == [f.name for f in get_spec(table).schema.fields], mart


def test_gold_tables_are_complete_and_labeled_sample(sample_lake: Path) -> None:
    from madlake.catalog import load_catalog
    from madlake.sql.engine import LocalEngine

    engine = LocalEngine()
    n_tools = len(load_catalog().tools)
    per_day = engine.query(
        "select metric_date, count(*) as n, bool_and(is_sample) as s from tool_daily_metrics group by metric_date"
    ).to_pylist()
    assert len(per_day) == 45 and {r["n"] for r in per_day} == {n_tools} and all(r["s"] for r in per_day)
    months = engine.query("select month, max(as_of_date) as d from popularity_index group by month order by month")
    assert months.to_pylist() == [
        {"month": date(2026, 2, 1), "d": date(2026, 2, 28)},
        {"month": date(2026, 3, 1), "d": END},
    ]


def test_views_parse_as_trino_ddl_and_run_on_duckdb(sample_lake: Path) -> None:
    from madlake.metrics.views import athena_view_statement, create_views, local_engine, view_sql

    assert len(view_sql()) >= 4
    for name in view_sql():
        tree = sqlglot.parse_one(athena_view_statement(name), read="trino")
        assert isinstance(tree, exp.Create) and tree.kind == "VIEW"
    assert create_views() == list(view_sql())
    engine = local_engine()
    leaders = engine.query(
        "select category, count(*) as n, min(rank_in_category) as r from v_category_leaders_latest group by category"
    ).to_pylist()
    assert leaders and all(r["r"] == 1 for r in leaders)


def test_every_question_parses_runs_and_answers(sample_lake: Path) -> None:
    from madlake.metrics.ask import list_queries, run_query
    from madlake.sql.engine import LocalEngine

    queries = {q.name: q for q in list_queries()}
    assert len(queries) == 5
    for q in queries.values():
        assert q.question.endswith("?")
        sqlglot.parse_one(q.sql, read="trino")
    answers = {name: run_query(name).to_pylist() for name in queries}
    needs_a_year = {"fastest_growing_nosql", "file_formats_rising_falling"}  # 76 days of history: no YoY growth
    assert all(answers[n] for n in set(queries) - needs_a_year), {n: len(a) for n, a in answers.items()}
    assert not any(answers[n] for n in needs_a_year)
    # The OLAP answer is the open-source olap_database tool with the highest score in the latest month.
    expected = (
        LocalEngine()
        .query(
            "select p.tool_id, t.name from popularity_index p join dim_tools t using (tool_id) "
            "where p.category = 'olap_database' and t.open_source and p.downloads_index is not null "
            "and p.month = (select max(month) from popularity_index where downloads_index is not null) "
            "order by p.score desc limit 1"
        )
        .to_pylist()[0]
    )
    assert answers["most_popular_open_source_olap"][0]["tool_name"] == expected["name"]
    scores = [r["score"] for r in answers["most_popular_open_source_olap"]]
    assert scores == sorted(scores, reverse=True)
    # Parameters: another category, and an unknown parameter is refused by name.
    loved = run_query("most_loved_and_criticised", {"category": "llm_framework"}).to_pylist()
    assert {r["verdict"] for r in loved} == {"most loved", "most criticised"}
    with pytest.raises(KeyError, match="colour"):
        run_query("most_loved_and_criticised", {"colour": "red"})
    then_now = {r["period"]: r for r in answers["top_mlops_then_and_now"]}
    assert then_now["today"]["tool_name"] and then_now["three years ago"]["tool_name"] is None  # 76 days of history


def test_madlake_ask_lists_and_answers(sample_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from madlake.cli import main

    assert main(["ask"]) == 0
    listing = capsys.readouterr().out
    assert "most_popular_open_source_olap" in listing and "category=orchestration" in listing
    assert main(["ask", "most_popular_open_source_olap", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("rank,tool_name,") and len(out) > 2
