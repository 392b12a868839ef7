"""The tracked-tools catalog: the bundled data is complete and valid, bad files fail loudly, exports are faithful."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import madlake
import pytest
import yaml
from madlake.catalog import (
    DEFAULT_CATALOG_PATH,
    Alias,
    CatalogError,
    ToolCatalog,
    catalog_records,
    dim_tools_arrow,
    export_catalog,
    load_catalog,
)

SEED_TOOL_IDS = [
    # warehouses, engines, formats
    "databricks", "snowflake", "bigquery", "starburst", "dremio",
    "spark", "trino", "presto", "pinot",
    "delta_lake", "iceberg", "hudi", "parquet", "avro", "arrow", "orc", "thrift", "protobuf",
    # streaming and databases
    "kafka", "flink", "confluent", "redpanda", "striim",
    "postgres", "mysql", "sqlserver", "dynamodb", "cosmosdb", "mongodb", "scylladb", "druid", "couchbase",
    "cockroachdb", "mariadb", "cassandra", "clickhouse", "redis", "neo4j", "pinecone", "weaviate", "qdrant",
    "chroma", "duckdb", "sqlite",
    # integration, orchestration, quality
    "dbt", "fivetran", "airbyte", "azure_data_factory", "aws_glue", "meltano",
    "airflow", "astronomer", "dagster", "prefect", "mage",
    "collibra", "monte_carlo", "soda",
    # ML and LLM
    "pytorch", "tensorflow", "keras", "xgboost", "lightgbm", "scikit_learn", "vertex_ai", "sagemaker", "azure_ml",
    "mlflow", "optuna", "wandb", "dvc", "neptune_ai",
    "langchain", "llamaindex", "litellm", "guidance", "dspy", "lmql", "haystack", "ollama", "llamacpp", "openllm",
]  # fmt: skip

EXTRA_TOOL_IDS = [
    "redshift", "synapse", "microsoft_fabric", "pandas", "polars", "ibis", "kubeflow", "zenml", "vllm", "tableau",
    "power_bi", "looker", "superset", "metabase", "unity_catalog", "polaris", "nessie", "great_expectations", "dlt",
    "sqlmesh", "ray", "transformers", "elasticsearch", "opensearch", "timescaledb", "starrocks", "doris", "pulsar",
    "beam", "hive", "hadoop", "kinesis", "materialize", "risingwave", "athena", "streamlit", "feast", "bentoml", "tgi",
    "sglang", "milvus", "pgvector", "lancedb", "oracle", "dataflow", "datahub", "openmetadata", "amundsen", "lance",
    "kestra", "luigi", "temporal", "hex", "mode",
]  # fmt: skip

KEY_PYPI = {
    "psycopg2": "postgres",
    "deltalake": "delta_lake",
    "pyiceberg": "iceberg",
    "pyarrow": "arrow",
    "pyorc": "orc",
    "avro": "avro",
    "thrift": "thrift",
    "protobuf": "protobuf",
    "pyspark": "spark",
    "apache-flink": "flink",
    "confluent-kafka": "confluent",
    "apache-airflow": "airflow",
    "dbt-core": "dbt",
    "dspy-ai": "dspy",
    "haystack-ai": "haystack",
    "llama-index": "llamaindex",
    "weaviate-client": "weaviate",
    "qdrant-client": "qdrant",
    "chromadb": "chroma",
    "clickhouse-connect": "clickhouse",
    "mysql-connector-python": "mysql",
    "mage-ai": "mage",
    "wandb": "wandb",
    "neptune": "neptune_ai",
    "pydruid": "druid",
    "couchbase": "couchbase",
    "redis": "redis",
    "neo4j": "neo4j",
    "pinecone": "pinecone",
    "duckdb": "duckdb",
    "pymongo": "mongodb",
    "airbyte": "airbyte",
    "meltano": "meltano",
    "dagster": "dagster",
    "prefect": "prefect",
    "torch": "pytorch",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "scikit-learn": "scikit_learn",
    "mlflow": "mlflow",
    "optuna": "optuna",
    "dvc": "dvc",
    "langchain": "langchain",
    "litellm": "litellm",
    "guidance": "guidance",
    "lmql": "lmql",
    "ollama": "ollama",
    "openllm": "openllm",
}

# Terms the brief maps explicitly, including cheap typos that are plainly the tool.
KEY_ALIASES = {
    "PySpark": "spark",
    "Spark SQL": "spark",
    "PostgreSQL": "postgres",
    "Postgres": "postgres",
    "psql": "postgres",
    "MWAA": "airflow",
    "Cloud Composer": "airflow",
    "airlfow": "airflow",
    "SSIS": "sqlserver",
    "SSMS": "sqlserver",
    "T-SQL": "sqlserver",
    "ADF": "azure_data_factory",
    "Data Factory": "azure_data_factory",
    "llama.cpp": "llamacpp",
    "llamacpp": "llamacpp",
    "llama-cpp": "llamacpp",
    "w&b": "wandb",
    "wandb": "wandb",
    "Weights & Biases": "wandb",
    "Weights and Biases": "wandb",
    "Data bricks": "databricks",
    "databrick": "databricks",
    "neptune.ai": "neptune_ai",
    "Azure ML": "azure_ml",
}


def _alias_owner(catalog: ToolCatalog, term: str) -> str:
    """The tool whose alias matches ``term`` (honouring case sensitivity)."""
    owners = {
        tool.id
        for tool in catalog.tools
        for alias in tool.aliases
        if (alias.term == term if alias.case_sensitive else alias.term.casefold() == term.casefold())
    }
    assert len(owners) == 1, f"{term!r} is claimed by {sorted(owners)}"
    return owners.pop()


# ---------------------------------------------------------------- the bundled catalog


@pytest.fixture(scope="module")
def catalog() -> ToolCatalog:
    return load_catalog()


def test_bundled_catalog_is_large_and_has_every_seed_and_extra_tool(catalog: ToolCatalog) -> None:
    ids = {tool.id for tool in catalog.tools}
    assert len(catalog.tools) >= 113
    assert [i for i in SEED_TOOL_IDS + EXTRA_TOOL_IDS if i not in ids] == []


def test_key_pypi_projects_map_to_their_tool(catalog: ToolCatalog) -> None:
    projects = catalog.pypi_projects()
    assert {name: projects.get(name) for name in KEY_PYPI} == KEY_PYPI


def test_postgres_lists_every_common_driver(catalog: ToolCatalog) -> None:
    assert {"psycopg2", "psycopg2-binary", "psycopg"} <= set(catalog.by_id("postgres").pypi)


def test_key_github_repos_map_to_their_tool(catalog: ToolCatalog) -> None:
    repos = catalog.github_repos()
    expected = {
        "apache/spark": "spark",
        "duckdb/duckdb": "duckdb",
        "pola-rs/polars": "polars",
        "apache/airflow": "airflow",
        "ClickHouse/ClickHouse": "clickhouse",
        "delta-io/delta": "delta_lake",
        "apache/iceberg": "iceberg",
        "dbt-labs/dbt-core": "dbt",
        "ggml-org/llama.cpp": "llamacpp",
        "run-llama/llama_index": "llamaindex",
        "vllm-project/vllm": "vllm",
    }
    assert {repo: repos.get(repo) for repo in expected} == expected


@pytest.mark.parametrize(("term", "tool_id"), sorted(KEY_ALIASES.items()))
def test_key_alias_terms_map_to_their_tool(catalog: ToolCatalog, term: str, tool_id: str) -> None:
    assert _alias_owner(catalog, term) == tool_id


def test_azure_abbreviations_need_tool_context(catalog: ToolCatalog) -> None:
    """ "ADF" / "Data Factory" count in a text about tools (a stack list), not only next to the word Azure."""
    adf = {alias.term: alias for alias in catalog.by_id("azure_data_factory").aliases}
    assert adf["ADF"].context == "tools" and adf["ADF"].case_sensitive
    assert adf["Data Factory"].context == "tools"


def test_every_category_is_used_and_every_tool_is_classified(catalog: ToolCatalog) -> None:
    used = {category for tool in catalog.tools for category in tool.categories}
    assert used == set(catalog.categories)
    assert len(catalog.categories) >= 20
    for category in catalog.categories:
        assert catalog.tools_in(category), category


def test_closed_source_tools_are_marked(catalog: ToolCatalog) -> None:
    for tool_id in ("snowflake", "fivetran", "tableau", "databricks", "bigquery"):
        assert catalog.by_id(tool_id).open_source is False, tool_id
    for tool_id in ("spark", "duckdb", "airflow", "iceberg"):
        assert catalog.by_id(tool_id).open_source is True, tool_id


def test_ordinary_word_names_are_guarded(catalog: ToolCatalog) -> None:
    """A bare ordinary word must be case-sensitive or need context, so "a spark of hope" is not Apache Spark."""
    ordinary = {"Spark", "Snowflake", "Delta", "Arrow", "Glue", "Presto", "Soda", "Mage", "Prefect", "Looker", "Ray",
                "Dash", "Feast", "Chroma", "Polaris", "Fabric", "Synapse", "Tableau", "Monte Carlo", "Haystack",
                "Guidance", "Temporal", "Luigi", "Beam", "Pulsar", "Druid", "Pinot", "Hex", "Nessie"}  # fmt: skip
    guarded = {
        alias.term for tool in catalog.tools for alias in tool.aliases if alias.case_sensitive or alias.requires_context
    }
    assert ordinary - guarded == set()


def test_lookups_raise_on_unknown_names(catalog: ToolCatalog) -> None:
    assert catalog.by_id("spark").name == "Apache Spark"
    with pytest.raises(KeyError, match="not_a_tool"):
        catalog.by_id("not_a_tool")
    with pytest.raises(KeyError, match="not_a_category"):
        catalog.tools_in("not_a_category")
    assert {t.id for t in catalog.tools_in("table_format")} >= {"delta_lake", "iceberg", "hudi"}


def test_default_load_is_cached_and_explicit_path_equals_it(catalog: ToolCatalog) -> None:
    assert load_catalog() is catalog
    assert load_catalog(DEFAULT_CATALOG_PATH) == catalog


def test_models_are_frozen(catalog: ToolCatalog) -> None:
    with pytest.raises(ValueError, match="frozen"):
        catalog.by_id("spark").name = "Sparkle"


def test_importing_the_catalog_does_not_import_pyarrow_or_pyiceberg() -> None:
    include_dir = Path(madlake.__file__).resolve().parents[1]
    code = (
        "import sys\n"
        "import madlake.catalog, madlake.catalog.models\n"
        "madlake.catalog.load_catalog()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'pyiceberg'))\n"
        "assert not heavy, heavy\n"
        "from madlake.catalog import DIM_TOOLS_SCHEMA\n"
        "assert 'pyiceberg' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(include_dir)}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- validation of bad files


def _tool(tool_id: str, **overrides: Any) -> dict[str, Any]:
    tool: dict[str, Any] = {
        "id": tool_id,
        "name": tool_id.title(),
        "categories": ["query_engine"],
        "open_source": True,
        "homepage": f"https://{tool_id}.example.org",
        "pypi": [tool_id.replace("_", "-")],
        "github": [f"example/{tool_id}"],
        "npm": [],
        "aliases": [{"term": tool_id.title()}],
    }
    tool.update(overrides)
    return tool


def _valid() -> dict[str, Any]:
    return {
        "categories": {"query_engine": "Engines", "orchestration": "Orchestrators"},
        "tools": [_tool("alpha"), _tool("beta", categories=["orchestration", "query_engine"])],
    }


def _write(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    path = tmp_path / "tools.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _load_error(tmp_path: Path, data: dict[str, Any] | str) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(path)
    message = str(excinfo.value)
    assert message.startswith(str(path)), message
    return message


def test_the_minimal_fixture_is_valid(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, _valid()))
    assert [t.id for t in catalog.tools] == ["alpha", "beta"]
    assert catalog.by_id("beta").primary_category == "orchestration"
    assert catalog.pypi_projects() == {"alpha": "alpha", "beta": "beta"}
    assert catalog.github_repos() == {"example/alpha": "alpha", "example/beta": "beta"}


def test_explicit_paths_are_not_cached(tmp_path: Path) -> None:
    data = _valid()
    path = _write(tmp_path, data)
    assert len(load_catalog(path).tools) == 2
    data["tools"].append(_tool("gamma"))
    _write(tmp_path, data)
    assert len(load_catalog(str(path)).tools) == 3


def test_duplicate_tool_id(tmp_path: Path) -> None:
    data = _valid()
    data["tools"].append(_tool("alpha", pypi=[], github=[], aliases=[{"term": "Other"}]))
    assert "duplicate tool id 'alpha'" in _load_error(tmp_path, data)


def test_duplicate_alias_across_tools_names_both_tools(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][1]["aliases"] = [{"term": "ALPHA"}]
    message = _load_error(tmp_path, data)
    assert "'ALPHA'" in message and "'alpha'" in message and "'beta'" in message


def test_case_sensitive_terms_differing_in_case_may_belong_to_two_tools(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "DLT", "case_sensitive": True}]
    data["tools"][1]["aliases"] = [{"term": "dlt", "case_sensitive": True}]
    assert len(load_catalog(_write(tmp_path, data)).tools) == 2
    data["tools"][1]["aliases"] = [{"term": "dlt"}]  # case-insensitive "dlt" also matches "DLT"
    assert "conflicts with" in _load_error(tmp_path, data)


def test_duplicate_alias_within_one_tool(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "Alpha"}, {"term": "alpha"}]
    assert "tool 'alpha': alias term 'Alpha' listed twice" in _load_error(tmp_path, data)


def test_unknown_category(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][1]["categories"] = ["orchestration", "astrology"]
    message = _load_error(tmp_path, data)
    assert "tool 'beta'" in message and "astrology" in message


def test_tool_without_category_or_alias(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["categories"] = []
    data["tools"][0]["aliases"] = []
    message = _load_error(tmp_path, data)
    assert "tool 'alpha'" in message and "no category" in message and "no alias" in message


def test_malformed_github_repo(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["github"] = ["https://github.com/example/alpha"]
    message = _load_error(tmp_path, data)
    assert "tool 'alpha'" in message and "https://github.com/example/alpha" in message


def test_non_normalized_pypi_name_suggests_the_normalized_one(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][1]["pypi"] = ["Apache_Airflow"]
    message = _load_error(tmp_path, data)
    assert "tool 'beta'" in message and "'Apache_Airflow'" in message and "'apache-airflow'" in message


def test_pypi_project_and_github_repo_belong_to_one_tool(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][1]["pypi"] = ["alpha"]
    data["tools"][1]["github"] = ["Example/Alpha"]  # GitHub slugs are case-insensitive
    message = _load_error(tmp_path, data)
    assert "pypi project 'alpha' is listed by both 'alpha' and 'beta'" in message
    assert "github repo 'example/alpha' is listed by both 'alpha' and 'beta'" in message


def test_former_github_names_map_to_the_tracked_repo(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["github_renamed"] = ["old-owner/Alpha", "example/alpha-legacy"]
    catalog = load_catalog(_write(tmp_path, data))
    names = catalog.github_names()
    assert names["old-owner/alpha"] == ("alpha", "example/alpha")
    assert names["example/alpha-legacy"] == ("alpha", "example/alpha")
    assert names["example/beta"] == ("beta", "example/beta")
    assert catalog.github_repos() == {"example/alpha": "alpha", "example/beta": "beta"}  # former names not tracked


@pytest.mark.parametrize(
    ("renamed", "github", "expected"),
    [
        (["https://github.com/old/alpha"], None, "github_renamed 'https://github.com/old/alpha' is not of the form"),
        (["old/alpha", "OLD/Alpha"], None, "github_renamed 'old/alpha' listed twice"),
        (["Example/Alpha"], None, "is also a current github repo of the tool"),
        (["old/alpha"], ["example/alpha", "example/alpha-two"], "needs exactly one github repo"),
        (["old/alpha"], [], "needs exactly one github repo"),
        (["example/BETA"], None, "github_renamed 'example/beta' of 'alpha' is the current github repo of 'beta'"),
    ],
)
def test_bad_former_github_names(tmp_path: Path, renamed: list[str], github: list[str] | None, expected: str) -> None:
    data = _valid()
    data["tools"][0]["github_renamed"] = renamed
    if github is not None:
        data["tools"][0]["github"] = github
    assert expected in _load_error(tmp_path, data)


def test_a_former_github_name_belongs_to_one_tool(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["github_renamed"] = ["old/shared"]
    data["tools"][1]["github_renamed"] = ["Old/Shared"]
    assert "github_renamed 'old/shared' is listed by both 'alpha' and 'beta'" in _load_error(tmp_path, data)


def test_bundled_renames(catalog: ToolCatalog) -> None:
    names = catalog.github_names()
    expected = {
        "antirez/redis": "redis/redis",
        "redis-io/redis": "redis/redis",
        "yandex/clickhouse": "ClickHouse/ClickHouse",
        "ggerganov/llama.cpp": "ggml-org/llama.cpp",
        "google/jax": "jax-ml/jax",
        "hwchase17/langchain": "langchain-ai/langchain",
        "iterative/dvc": "treeverse/dvc",
        "jerryjliu/llama_index": "run-llama/llama_index",
        "jmorganca/ollama": "ollama/ollama",
    }
    assert {old: names[old][1] for old in expected} == expected
    assert all(names[repo.lower()] == (tool, repo) for repo, tool in catalog.github_repos().items())


@pytest.mark.parametrize("homepage", ["ftp://alpha.example.org", "alpha.example.org", "https://"])
def test_homepage_must_be_an_http_url(tmp_path: Path, homepage: str) -> None:
    data = _valid()
    data["tools"][0]["homepage"] = homepage
    assert "tool 'alpha': homepage" in _load_error(tmp_path, data)


def test_bad_slug_id(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["id"] = "Alpha-Tool"
    assert "tool 'Alpha-Tool': id must match" in _load_error(tmp_path, data)


def test_empty_alias_term(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "  "}]
    message = _load_error(tmp_path, data)
    assert "(id='alpha')" in message and "alias term is empty" in message


def test_exclude_phrase_must_contain_the_term(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "Alpha", "exclude": ["beta particles"]}]
    message = _load_error(tmp_path, data)
    assert "(id='alpha')" in message and "'beta particles'" in message


def test_unparseable_yaml(tmp_path: Path) -> None:
    assert "invalid YAML" in _load_error(tmp_path, "categories: {query_engine: Engines\ntools: [")


def test_a_key_repeated_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    text = yaml.safe_dump(_valid(), sort_keys=False).replace("  name: Beta\n", "  name: Beta\n  name: Gamma\n")
    message = _load_error(tmp_path, text)
    assert "duplicate key 'name'" in message


def test_missing_required_field_names_the_entry(tmp_path: Path) -> None:
    data = _valid()
    del data["tools"][1]["open_source"]
    message = _load_error(tmp_path, data)
    assert "tools[1] (id='beta').open_source" in message and "Field required" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["stars"] = 12
    assert "tools[0] (id='alpha').stars" in _load_error(tmp_path, data)


def test_non_mapping_document(tmp_path: Path) -> None:
    assert "expected a mapping" in _load_error(tmp_path, "- just\n- a list\n")


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(path)


def test_alias_defaults() -> None:
    alias = Alias(term="Spark")
    assert (alias.case_sensitive, alias.requires_context, alias.exclude) == (False, (), ())


# ---------------------------------------------------------------- exports


def test_json_export_round_trips(catalog: ToolCatalog) -> None:
    records = json.loads(export_catalog(catalog, "json"))
    assert isinstance(records, list) and len(records) == len(catalog.tools)
    assert records == catalog_records(catalog)
    spark = next(r for r in records if r["id"] == "spark")
    assert {"id", "name", "aliases", "categories", "pypi", "github"} <= spark.keys()
    assert list(spark) == [
        "id",
        "name",
        "categories",
        "aliases",
        "pypi",
        "github",
        "npm",
        "homepage",
        "open_source",
        "github_renamed",
    ]
    assert {
        "term": "PySpark",
        "case_sensitive": False,
        "requires_context": [],
        "exclude": [],
        "unless_context": [],
        "context": "any",
        "other_case": "never",
    } in spark["aliases"]
    rebuilt = {"categories": catalog.categories, "tools": records, "mention_context": catalog.mention_context}
    assert ToolCatalog.model_validate(rebuilt) == catalog


def test_csv_export(catalog: ToolCatalog) -> None:
    text = export_catalog(catalog, "csv")
    assert text.splitlines()[0] == "id,name,categories,aliases,pypi,github,npm,homepage,open_source,github_renamed"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(catalog.tools)
    postgres = next(r for r in rows if r["id"] == "postgres")
    assert postgres["aliases"].split("|")[:3] == ["PostgreSQL", "Postgres", "psql"]
    assert "psycopg2-binary" in postgres["pypi"].split("|")
    assert postgres["open_source"] == "true"
    assert next(r for r in rows if r["id"] == "fivetran")["github"] == ""
    assert next(r for r in rows if r["id"] == "redis")["github_renamed"] == "antirez/redis|redis-io/redis"


def test_unknown_export_format(catalog: ToolCatalog) -> None:
    with pytest.raises(ValueError, match="xml"):
        export_catalog(catalog, "xml")  # type: ignore[arg-type]


# ---------------------------------------------------------------- dim_tools


def test_dim_tools_arrow_matches_the_iceberg_schema(catalog: ToolCatalog) -> None:
    from madlake.catalog import DIM_TOOLS_SCHEMA

    loaded_at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    table = dim_tools_arrow(catalog, loaded_at)
    assert table.num_rows == len(catalog.tools)
    assert table.schema == DIM_TOOLS_SCHEMA.as_arrow()
    assert table.schema.equals(DIM_TOOLS_SCHEMA.as_arrow(), check_metadata=True)
    rows = {row["tool_id"]: row for row in table.to_pylist()}
    assert rows["spark"]["primary_category"] == "query_engine"
    assert rows["spark"]["pypi_packages"] == ["pyspark"]
    assert "PySpark" in rows["spark"]["aliases"]
    assert rows["fivetran"]["github_repos"] == []
    assert rows["spark"]["loaded_at"] == datetime(2025, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert DIM_TOOLS_SCHEMA.identifier_field_ids == [1]


def test_dim_tools_schema_field_ids_are_unique() -> None:
    from madlake.catalog import DIM_TOOLS_SCHEMA

    ids = list(DIM_TOOLS_SCHEMA._lazy_id_to_name)  # every field id, list elements included
    assert len(ids) == len(set(ids)) == 16


def test_dim_tools_arrow_rejects_naive_timestamps(catalog: ToolCatalog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dim_tools_arrow(catalog, datetime(2025, 1, 1))


def test_dim_tools_arrow_can_be_appended_to_an_iceberg_table(catalog: ToolCatalog, tmp_path: Path) -> None:
    from madlake.catalog import DIM_TOOLS_SCHEMA
    from pyiceberg.catalog.sql import SqlCatalog

    iceberg = SqlCatalog("test", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/warehouse")
    iceberg.create_namespace("core")
    table = iceberg.create_table("core.dim_tools", schema=DIM_TOOLS_SCHEMA)
    assert table.schema().as_struct() == DIM_TOOLS_SCHEMA.as_struct()  # create_table kept every field id
    table.append(dim_tools_arrow(catalog, datetime.now(UTC)))
    assert table.scan().to_arrow().num_rows == len(catalog.tools)


def test_records_are_deep_copies(catalog: ToolCatalog) -> None:
    records = catalog_records(catalog)
    mutated = copy.deepcopy(records)
    mutated[0]["aliases"].clear()
    assert catalog_records(catalog) == records
