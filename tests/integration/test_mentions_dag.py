"""reddit_mentions through Airflow (``dag.test``): ingest → load → mentions of one day, then the LLM path on a fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from madlake.names import Dag

from tests.integration.fake_openai import fake_openai


def query(sql: str) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql).to_pylist()


def _demo_until_mentions() -> None:
    """The demo's order (catalog, ingest, load, mentions) on one recorded day, 2025-08-08, with 3 extra threads."""
    from datetime import date

    from madlake.demo import DEMO_STEPS
    from madlake.orchestration.runner import run_dag

    ids = [s.dag_id for s in DEMO_STEPS]
    assert ids.index(Dag.REDDIT_LOAD) < ids.index(Dag.REDDIT_MENTIONS)
    day = date(2025, 8, 8)
    run_dag(Dag.TOOLS_CATALOG, None)
    run_dag(Dag.REDDIT_INGEST, day, conf={"threads": "1mkowrw"})
    run_dag(Dag.REDDIT_LOAD, day)
    run_dag(Dag.REDDIT_MENTIONS, None, conf={"method": "lexicon"})


def test_demo_mentions_offline_then_llm_on_a_fake_server(lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.orchestration.runner import run_dag

    _demo_until_mentions()
    rows = query("select tool_id, count(*) as n, min(method) as m from reddit_mentions group by 1 order by 2 desc")
    by_tool = {r["tool_id"]: r["n"] for r in rows}
    assert by_tool["llamacpp"] >= 5 and by_tool["airflow"] >= 5 and by_tool["spark"] >= 5
    assert {r["m"] for r in rows} == {"lexicon"}
    total = sum(by_tool.values())
    dupes = query("select count(*) as n from (select content_id, tool_id from reddit_mentions group by 1, 2 "
                  "having count(*) > 1)")[0]["n"]  # fmt: skip
    assert dupes == 0

    # Nothing loaded since: a rerun reads nothing and changes nothing.
    run_dag(Dag.REDDIT_MENTIONS, None)
    assert query("select count(*) as n from reddit_mentions")[0]["n"] == total

    # The LLM path: the same DAG, every item again, against a local OpenAI-compatible server.
    with fake_openai() as fake:
        conn = {"conn_type": "generic", "host": fake.url, "password": "k", "extra": {"model": "fake-model"}}
        monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_LLM", json.dumps(conn))
        run_dag(Dag.REDDIT_MENTIONS, None, conf={"method": "llm", "reprocess_all": True})
        calls = fake.calls
        assert calls == len(query("select distinct content_id from reddit_mentions"))  # one call per item
        llm_rows = query("select method, model, prompt_version, count(*) as n from reddit_mentions group by 1, 2, 3")
        assert llm_rows == [{"method": "llm", "model": "fake-model", "prompt_version": "mentions-v1", "n": total}]
        # A backfill of everything again: all answers come from the cache, zero calls.
        run_dag(Dag.REDDIT_MENTIONS, None, conf={"method": "llm", "reprocess_all": True})
        assert fake.calls == calls
    assert query("select count(*) as n from reddit_mentions")[0]["n"] == total
