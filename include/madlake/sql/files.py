"""Where the SQL lives: one folder per layer under ``madlake/sql``, one statement per ``.sql`` file.

=============  ==============================================================  =====================================
folder         what                                                            runs on
=============  ==============================================================  =====================================
``models``     gold models: staging ``stg_*``, intermediate ``int_*``, marts   :mod:`madlake.metrics.runner`
``views``      analyst views over the gold tables (``v_*``)                    :mod:`madlake.metrics.views`
``questions``  the MAD questions, with their metadata header                   ``madlake ask`` and the dashboard
``dashboard``  the dashboard pages' own queries                                :mod:`madlake.dashboard.queries`
``reports``    summaries the CLI and ``madlake demo`` print                    their report functions
``sources``    extraction queries sent to a source's own engine                the PyPI clients
=============  ==============================================================  =====================================

Every file but those of ``sources`` is written in one dialect, Trino (what Athena runs), and transpiled to DuckDB with
sqlglot (:func:`transpile`) on the local profile. ``sources`` hold the queries a source's engine runs, in its dialect
(BigQuery's GoogleSQL, ClickHouse): the file name ends with the dialect.
"""

from __future__ import annotations

import functools
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent
#: The dialect every file but those of ``sources`` is written in.
SOURCE_DIALECT = "trino"
LAYERS = ("models", "views", "questions", "dashboard", "reports", "sources")


def layer_dir(layer: str) -> Path:
    """The folder of ``layer``; ``ValueError`` for an unknown layer."""
    if layer not in LAYERS:
        raise ValueError(f"unknown SQL layer {layer!r}; known: {', '.join(LAYERS)}")
    return SQL_DIR / layer


def sql_path(layer: str, name: str) -> Path:
    """The file of ``name`` (without ``.sql``) in ``layer``."""
    return layer_dir(layer) / f"{name}.sql"


def sql_names(layer: str) -> list[str]:
    """The names (file stems) of every file of ``layer``, in name order."""
    return sorted(p.stem for p in layer_dir(layer).glob("*.sql"))


def read_sql(layer: str, name: str) -> str:
    """The statement of ``layer/name.sql``: its text without surrounding blanks and a final ``;``.

    Raises ``FileNotFoundError`` naming the file.
    """
    return sql_path(layer, name).read_text(encoding="utf-8").strip().rstrip(";")


def read_layer(layer: str) -> dict[str, str]:
    """Every statement of ``layer`` by name, in name order."""
    return {name: read_sql(layer, name) for name in sql_names(layer)}


@functools.lru_cache(maxsize=512)
def transpile(sql: str, write: str = "duckdb") -> str:
    """The ``write`` (default DuckDB) text of a Trino statement (cached: the same text is transpiled once)."""
    import sqlglot  # noqa: PLC0415 - `import madlake.cli` loads this module (via metrics.ask); sqlglot costs ~0.1 s

    return ";\n".join(sqlglot.transpile(sql, read=SOURCE_DIALECT, write=write))


def for_engine(sql: str, dialect: str) -> str:
    """A Trino statement in the dialect of the engine that runs it (unchanged on Trino/Athena)."""
    return sql if dialect == SOURCE_DIALECT else transpile(sql, dialect)


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (DuckDB, Trino and SQLite alike), inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a single-quoted SQL string literal, inner quotes doubled.

    Only for text that cannot be bound as a parameter (DDL, Athena's ``ExecutionParameters``); data is bound.
    """
    return "'" + value.replace("'", "''") + "'"
