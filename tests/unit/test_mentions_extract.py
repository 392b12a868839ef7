"""The mention extractor: hard cases from the issue, the catalog's matching contract, the labeled set, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from madlake.catalog import Alias, Tool, ToolCatalog
from madlake.mentions.extract import MentionExtractor, extract_jsonl, normalize, strip_urls

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mentions"


@pytest.fixture(scope="module")
def x() -> MentionExtractor:
    return MentionExtractor.for_catalog()


# Must find: (text, {tool: count}) -- exactly these tools with these counts.
POSITIVES = [
    ("We moved the job from PySpark to Spark SQL.", {"spark": 2}),
    ("PostgreSQL, Postgres or just psql in a terminal", {"postgres": 3}),
    ("We run MWAA; the other team is on Cloud Composer", {"airflow": 2}),
    ("Legacy SSIS packages, SSMS and a lot of T-SQL", {"sqlserver": 3}),
    ("In Azure we orchestrate with ADF (Data Factory) pipelines", {"azure_data_factory": 2}),
    ("llama.cpp is faster than ever", {"llamacpp": 1}),
    ("Logging runs to w&b, i.e. wandb", {"wandb": 2}),
    ("Our airlfow DAGs write to Data bricks", {"airflow": 1, "databricks": 1}),
    ("Apache Spark is still Spark", {"spark": 2}),  # "Apache Spark" counts once, not twice
    ("Snowflake vs a snowflake schema in Snowflake", {"snowflake": 2}),
    ("Hugging Face Transformers", {"transformers": 1}),  # longest match wins over "Hugging Face"
    ("I am using LM-Studio now", {"lm_studio": 1}),  # a space in a term matches any separator
    ("airflow spark hive/presto kinesis s3 sqs glue lambda dynamodb", {
        "airflow": 1, "spark": 1, "hive": 1, "presto": 1, "kinesis": 1, "aws_glue": 1, "dynamodb": 1}),
    ("Title line\n\nBody mentions DuckDB and duckdb again", {"duckdb": 2}),
    ("DuckDB’s SQL dialect — and Polars’ lazy API", {"duckdb": 1, "polars": 1}),  # curly quotes, em dash
    ("Spark offers more than we need", {"spark": 1}),  # "spark of" must not veto "Spark offers"
]  # fmt: skip

# Must not fire on ordinary words.
NEGATIVES = [
    "Marie Kondo says keep what will spark joy",
    "We model it as a snowflake schema with conformed dimensions",
    "the delta between offers was 20k",
    "it is mostly glue code between services",
    "use the arrow keys to move",
    "and presto! the bug was gone",
    "I bought the DGX Spark box for my homelab",
    "sparkling water and an array of arrays",  # substrings: spark, ray
    "ADF is great",  # ADF needs an Azure context
    "The Oracle of Omaha likes stocks",
    "A hive mind of bees",
    "see https://huggingface.co/org/model and https://github.com/vllm-project/vllm",  # links are not mentions
    "OLLAMA\\_MAX\\_LOADED\\_MODELS=1",  # a markdown-escaped identifier
]


@pytest.mark.parametrize(("text", "expected"), POSITIVES)
def test_hard_positive_cases(x: MentionExtractor, text: str, expected: dict[str, int]) -> None:
    assert x.counts(text) == expected


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negative_cases(x: MentionExtractor, text: str) -> None:
    assert x.counts(text) == {}


def test_spans_point_at_the_mention_in_the_original_text(x: MentionExtractor) -> None:
    text = "see https://x.io/spark then İstanbul team uses PySpark"  # a URL and a char that lowercases to two
    [mention] = x.extract(text)
    ((start, end),) = mention.spans
    assert text[start:end] == "PySpark"


def test_normalize_and_strip_urls_keep_offsets() -> None:
    for text in ["İİ Spark", "a–b “c” d…", "x https://a.b/c?d=e y"]:
        assert len(normalize(text)) == len(text)
        assert len(strip_urls(text)) == len(text)


def _catalog(*aliases: Alias) -> ToolCatalog:
    return ToolCatalog(
        categories={"c": "c"},
        tools=(Tool(id="t", name="T", categories=("c",), aliases=aliases, open_source=True),),
    )


def test_contract_case_context_and_exclude_on_a_small_catalog() -> None:
    x = MentionExtractor(
        _catalog(Alias(term="Beam", case_sensitive=True, requires_context=("Dataflow", "pipeline"),
                       exclude=("Beam me up",)))
    )  # fmt: skip
    assert x.counts("Beam pipeline") == {"t": 1}
    assert x.counts("beam pipeline") == {}  # case rule
    assert x.counts("Beam is nice") == {}  # no context word
    assert x.counts("Beam pipelines") == {}  # context words match on word boundaries too
    assert x.counts("Beam me up, said the pipeline") == {}  # excluded phrase around the occurrence
    assert x.counts("Beam me up. Beam pipeline") == {"t": 1}  # ...vetoes only that occurrence


def test_catalog_changes_drive_the_extractor_with_no_code_change() -> None:
    assert MentionExtractor(_catalog(Alias(term="FooDB"))).counts("we use foodb") == {"t": 1}
    assert MentionExtractor(_catalog(Alias(term="FooDB", case_sensitive=True))).counts("we use foodb") == {}


def test_labeled_set_precision_and_recall(x: MentionExtractor) -> None:
    from madlake.mentions.quality import score

    rows = [json.loads(line) for line in (FIXTURES / "labeled.jsonl").read_text().splitlines()]
    assert len(rows) >= 1500
    result = score(x, rows)
    assert result.precision >= 0.98, result
    assert result.recall >= 0.97, result


#: Texts of the labeled set the extractor got wrong before the context rules (issue #14) and gets right now: each
#: corrected miss or false positive stays a regression test.
CORRECTED = """
t1_n2ppo1x t1_n0iedx3 t1_n77bk4q t3_1m68elw t1_n0dlnui t1_n6o40t8 t1_n0uvv0r t1_n7buqur
t1_n27ie0q t1_n5ymv5b t1_n16dx1w t1_n2q64pe t1_n5pgw14 t1_n41lwhq t1_n77al0a t1_kx471fu
t1_n2bp1it t1_n02y8on t3_1lsjm9l t1_n0lm2ps t1_hn33049 t1_idmmvb0 t1_idmnfp1 t1_ib116p0
t1_ifnitip t1_ic2mjt1 t1_ieduoib t1_iesvfyt t1_ih0radv t1_ibszo0r t1_ie3ttvx t1_ige640k
t1_ijywq5m t1_hyyq4ft t1_i2256zq t1_i2269i2 t1_hzslrrk t1_i0xesio t1_i1eaiyh t1_i1hof0s
""".split()  # noqa: SIM905 - ids read better as a block


def test_corrected_misses_stay_corrected(x: MentionExtractor) -> None:
    rows = {r["id"]: r for r in map(json.loads, (FIXTURES / "labeled.jsonl").read_text().splitlines())}
    wrong = {i: (rows[i]["expected"], x.counts(rows[i]["text"])) for i in CORRECTED if x.counts(rows[i]["text"]) !=
             rows[i]["expected"]}  # fmt: skip
    assert not wrong


# The cases: an ambiguous name counts when the text around it is about tools.
TOOL_CONTEXT_POSITIVES = [
    ("AWS, snowflake, Kafka CDC, dbt, prefect, terraform", {"snowflake": 1, "kafka": 1, "dbt": 1, "prefect": 1}),
    ("airflow/prefect", {"airflow": 1, "prefect": 1}),  # a stack list of two ambiguous names
    ("databricks, AWS/Azure/GCP", {"databricks": 1}),
    ("7. Python, ADF, Logic Apps", {"azure_data_factory": 1}),  # ADF without the word Azure
    ("Azure (Databricks/Data Factory)", {"databricks": 1, "azure_data_factory": 1}),
    ("S3, GLUE, ATHENA, REDSHIFT, EC2", {"aws_glue": 1, "athena": 1, "redshift": 1}),  # ALL CAPS in a stack list
    ("we are migrating to snowflake next year", {"snowflake": 1}),  # a cue word
    ("upgrading to airflow 2.7 soon", {"airflow": 1}),  # a version
    ("pip install torch then torch.compile(model)", {"pytorch": 2}),  # code
    ("Snowflake is our warehouse; the snowflake bill grows", {"snowflake": 2}),  # anchor: named plainly elsewhere
]  # fmt: skip

TOOL_CONTEXT_NEGATIVES = [
    "Your desktop chassis hardly has enough airflow.",  # PC-case airflow
    "Yeah? Is that why you deleted your comment, snowflake? lol",
    "I bought the DGX Spark. The Spark is fast but the Spark box is loud.",  # unless_context: the NVIDIA computer
    "Does it work for needle in haystack tests?",
    "thanks to Oracle we know that APIs are not copyrightable",  # the company
    "You are better off going Intel SPR or EMR with ES/QA chips",  # Emerald Rapids
    "the delta between offers was 20k",
    "ADF is great",
    "This is gonna spark an industry",
]


@pytest.mark.parametrize(("text", "expected"), TOOL_CONTEXT_POSITIVES)
def test_tool_context_positive_cases(x: MentionExtractor, text: str, expected: dict[str, int]) -> None:
    assert x.counts(text) == expected
    assert x.counts_many([text]) == [expected]


@pytest.mark.parametrize("text", TOOL_CONTEXT_NEGATIVES)
def test_tool_context_negative_cases(x: MentionExtractor, text: str) -> None:
    assert x.counts(text) == {}


def test_context_rule_is_data_on_a_small_catalog() -> None:
    x = MentionExtractor(
        ToolCatalog(
            categories={"c": "c"},
            tools=(Tool(id="t", name="T", categories=("c",), open_source=True,
                        aliases=(Alias(term="Foo", case_sensitive=True, other_case="tools"),)),),
            mention_context={"window": 10, "stack_words": ("Python",), "cue_words": ("with",)},
        )
    )  # fmt: skip
    assert x.counts("Foo rocks") == {"t": 1}  # written as the alias: no context needed
    assert x.counts("foo rocks") == {}  # another case: needs the text around to be about tools
    assert x.counts("Python, foo") == {"t": 1}  # a stack word within the window
    assert x.counts("Python is a language of many, many words; foo") == {}  # ...but not farther than the window
    assert x.counts("built with foo") == {"t": 1}  # a cue word right before
    assert x.counts("FOO 2.1") == {"t": 1}  # a version after


def test_batch_pass_gives_the_per_text_answer_on_the_labeled_set(x: MentionExtractor) -> None:
    texts = [json.loads(line)["text"] for line in (FIXTURES / "labeled.jsonl").read_text().splitlines()]
    assert x.find_many(texts) == [x.find(t) for t in texts]
    assert x.counts_many(texts) == [x.counts(t) for t in texts]


def test_jsonl_contract_and_errors(x: MentionExtractor) -> None:
    lines = ['{"id": 1, "text": "PySpark"}', "", '{"id": "b", "text": "nothing"}']
    assert list(extract_jsonl(lines, x)) == [
        {"id": 1, "mentions": [{"tool": "spark", "count": 1}]},
        {"id": "b", "mentions": []},
    ]
    with pytest.raises(ValueError, match=r"line 1 \(id='z'\): expected an object with a string 'text'"):
        list(extract_jsonl(['{"id": "z", "body": "x"}'], x))
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        list(extract_jsonl(['{"id": 1, "text": ""}', "{oops"], x))


def test_cli_reads_stdin_and_writes_json_lines() -> None:
    exe = Path(sys.executable).with_name("madlake")
    proc = subprocess.run(
        [str(exe), "mentions", "extract", "-"],
        input='{"id": "a", "text": "MWAA and dbt"}\n{"id": "b", "text": "spark joy"}\n',
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out == [
        {"id": "a", "mentions": [{"tool": "airflow", "count": 1}, {"tool": "dbt", "count": 1}]},
        {"id": "b", "mentions": []},
    ]
