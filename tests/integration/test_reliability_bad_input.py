"""Bad input: ≥ 1,000 generated malformed records per source, mixed into a batch of real records, all end in
``rejected_records`` with a reason and their raw payload; nothing crashes; the good records of the same batch load.

The malformed records come from :mod:`tests.fixtures.malformed` (wrong types, missing keys, ~200 kB strings, bad
UTF-8, 40-level nested garbage, non-objects, raw invalid bytes and cut lines for line-based feeds) and are served
through each source's real path: the PyPI replay file reader, and praw against the Reddit replay server.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from tests.fixtures.malformed import distinct, malformed_lines, malformed_records
from tests.integration._reliability import record

pytestmark = pytest.mark.integration

N_BAD = 1000


def query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params or []).to_pylist()


def test_pypi_malformed_rows_go_to_dead_letters_and_the_good_rows_publish(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.pypi import load_day

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    day = date(2026, 3, 1)
    good_lines = gzip.decompress((BUNDLED_REPLAY_DIR / "pypi" / f"{day}.jsonl.gz").read_bytes()).splitlines()
    good = [json.loads(line) for line in good_lines]
    bad = malformed_records(
        good[0],
        required=["download_date", "project", "version", "downloads"],
        typed={"download_date": "date", "downloads": "int", "ci": "bool", "project": "str", "version": "str"},
        n=N_BAD,
    )
    lines = good_lines + malformed_lines(bad)
    random.Random(8).shuffle(lines)
    replay = tmp_path / "replay"
    (replay / "pypi").mkdir(parents=True)
    (replay / "pypi" / f"{day}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(replay))

    summary = load_day(day)

    dead = query(
        "select reason, length(raw_payload) as n from rejected_records where source = 'pypi' and run_date = ?",
        [day.isoformat()],
    )
    loaded = query("select count(*) as n, sum(downloads) as d from pypi_downloads where download_date = ?", [day])[0]
    reasons = Counter(r["reason"].split(":")[0].split(" line ")[0] for r in dead)
    record(
        "bad_input_pypi",
        records_tried=len(lines),
        malformed=N_BAD,
        kinds=dict(Counter(m.kind for m in bad)),
        dead_letters=len(dead),
        good_rows_loaded=loaded["n"],
        good_rows_expected=len(good),
        crashes=0,
        reasons=dict(reasons.most_common(6)),
    )
    assert summary["rejected"] == N_BAD and len(dead) == N_BAD
    assert all(r["reason"] and r["n"] > 0 for r in dead)
    assert max(r["n"] for r in dead) <= 65_536 + 64, "a huge payload was stored untruncated"
    assert loaded["n"] == len(good) == summary["rows"]
    assert loaded["d"] == sum(g["downloads"] for g in good)


def test_reddit_malformed_things_go_to_dead_letters_and_the_good_ones_load(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.pipelines import reddit as pipeline

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    day = date(2025, 8, 8)
    replay = tmp_path / "replay" / "reddit"
    shutil.copytree(BUNDLED_REPLAY_DIR / "reddit", replay)
    shutil.rmtree(replay / "localllama")  # replay the flat recording of 2025-08-08 (r/LocalLLaMA/new.json) alone
    listing_path = replay / "r" / "LocalLLaMA" / "new.json"
    listing = json.loads(listing_path.read_text())
    good_posts = listing["data"]["children"]
    bad_posts = malformed_records(
        good_posts[0]["data"],
        required=["id", "created_utc", "title", "subreddit"],
        typed={"created_utc": "float", "score": "int", "num_comments": "int", "title": "str", "upvote_ratio": "float"},
        n=N_BAD,
        seed=1,
        id_field="id",
    )
    # Valid posts whose text carries a lone UTF-16 surrogate (a split emoji, valid JSON): load, marked with U+FFFD.
    odd_posts = []
    for i in range(20):
        odd = json.loads(json.dumps(good_posts[i % len(good_posts)]))
        odd["data"].update(id=f"zzodd{i}", title=f"split emoji \udcf0\udc9f #{i}", selftext="half a pair \ud83d")
        odd_posts.append(odd)
    listing["data"]["children"] = (
        good_posts
        + odd_posts
        + [{"kind": "t3", "data": m.record} if isinstance(m.record, dict) else m.record for m in bad_posts]
    )
    random.Random(4).shuffle(listing["data"]["children"])
    listing_path.write_text(json.dumps(listing))

    thread_path = replay / "comments" / "1mkowrw.json"
    thread = json.loads(thread_path.read_text())
    top = thread[1]["data"]["children"]
    sample_comment = next(c["data"] for c in top if c.get("kind") == "t1")
    bad_comments = malformed_records(
        {k: v for k, v in sample_comment.items() if k != "replies"},
        required=["id", "created_utc", "body", "link_id"],
        typed={"created_utc": "float", "score": "int", "depth": "int", "body": "str", "link_id": "str"},
        n=N_BAD,
        seed=2,
        id_field="id",
    )
    thread[1]["data"]["children"] = top + [
        {"kind": "t1", "data": m.record} if isinstance(m.record, dict) else m.record for m in bad_comments
    ]
    thread_path.write_text(json.dumps(thread))

    ingested = pipeline.ingest(
        day, subreddits=["LocalLLaMA"], threads=["1mkowrw"], fetch_comments=False, replay_dir=replay, max_attempts=1
    )
    result = pipeline.load(day)

    dead = query(
        "select entity, reason, length(raw_payload) as n from rejected_records where source = 'reddit' "
        "and run_date = ?",
        [day.isoformat()],
    )
    by_entity = Counter(d["entity"] for d in dead)
    submissions = query("select count(*) as n from reddit_submissions")[0]["n"]
    odd_loaded = query("select title, selftext from reddit_submissions where id like 'zzodd%' order by id")
    comments = query("select count(*) as n from reddit_comments")[0]["n"]
    record(
        "bad_input_reddit",
        records_tried=len(good_posts) + len(odd_posts) + 2 * N_BAD + len(top),
        malformed_submissions=N_BAD,
        malformed_comments=N_BAD,
        dead_letters=dict(by_entity),
        distinct_malformed={"submission": distinct(bad_posts), "comment": distinct(bad_comments)},
        submissions_loaded=submissions,
        lone_surrogate_posts_loaded=len(odd_loaded),
        comments_loaded=comments,
        crashes=0,
        reasons=dict(Counter(d["reason"][:40] for d in dead).most_common(5)),
    )
    assert ingested["submissions_listed"] >= len(good_posts)
    # One dead letter per distinct bad record (identical copies, e.g. the ``null`` ones, are one dead letter).
    want = {"submission": distinct(bad_posts), "comment": distinct(bad_comments)}
    assert by_entity == want, (by_entity, want)
    assert min(want.values()) > 900
    assert result["rejected"] == sum(want.values())
    assert all(d["reason"] and d["n"] > 0 for d in dead)
    # every good post of the listing, the odd ones, the 1mkowrw submission; the thread's 24 good comments
    assert submissions == len(good_posts) + len(odd_posts) + 1
    assert len(odd_loaded) == 20 and all("\ufffd" in r["title"] and "\ufffd" in r["selftext"] for r in odd_loaded)
    assert comments == 24


def test_github_malformed_repository_answers_go_to_dead_letters_and_the_good_ones_load(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.github import snapshot_repos
    from madlake.sources.github.replay import GitHubReplayServer

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    day = date(2026, 8, 22)
    root = tmp_path / "replay" / "github"
    shutil.copytree(BUNDLED_REPLAY_DIR / "github", root)
    recorded = sorted(p.relative_to(root / "repos").with_suffix("").as_posix() for p in root.glob("repos/*/*.json"))
    good_body = json.loads((root / "repos" / f"{recorded[0]}.json").read_text())
    bad = malformed_records(
        good_body,
        required=["full_name", "stargazers_count"],
        typed={
            "stargazers_count": "int",
            "forks_count": "int",
            "archived": "bool",
            "pushed_at": "date",
            "full_name": "str",
            "open_issues_count": "int",
        },
        n=N_BAD,
        seed=3,
    )
    (root / "repos" / "badowner").mkdir()
    for i, m in enumerate(bad):
        (root / "repos" / "badowner" / f"bad{i}.json").write_text(json.dumps(m.record))
    repos = {name: "duckdb" for name in recorded} | {f"badowner/bad{i}": "duckdb" for i in range(N_BAD)}

    with GitHubReplayServer(root) as server:
        conn = {"conn_type": "generic", "host": server.url, "password": "test-token"}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
        # The recordings alone first (they include renames and a removed repository): the baseline.
        clean = snapshot_repos(day, repos={name: "duckdb" for name in recorded}, source_mode="live")
        summary = snapshot_repos(day, repos=repos, source_mode="live")

    dead = query(
        "select record_id, reason, length(raw_payload) as n from rejected_records where source = 'github' "
        "and run_date = ?",
        [day.isoformat()],
    )
    loaded = query("select count(*) as n from github_repo_snapshots where snapshot_date = ?", [day])[0]["n"]
    record(
        "bad_input_github",
        records_tried=len(repos),
        malformed=N_BAD,
        dead_letters=len(dead),
        good_rows_loaded=loaded,
        good_rows_expected=clean["rows"],
        rejected_without_malformed=clean["rejected"],
        crashes=0,
        reasons=dict(Counter(d["reason"][:45] for d in dead).most_common(4)),
    )
    assert summary["rejected"] == clean["rejected"] + N_BAD and len(dead) == summary["rejected"]
    assert {f"badowner/bad{i}" for i in range(N_BAD)} <= {d["record_id"] for d in dead}
    assert all(d["reason"] and d["n"] > 0 for d in dead)
    assert loaded == clean["rows"] == summary["rows"] > 30


def test_llm_malformed_answers_go_to_dead_letters_and_every_item_keeps_its_mentions(
    lakehouse: Path, tmp_path: Path
) -> None:
    """1,000 items, each answered by the model with a malformed answer: every answer is rejected to the dead letters
    with its reason, the lexicon stands in, and every item still gets its mention rows."""
    from datetime import UTC, datetime

    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import CommitContext, merge, rows_to_arrow
    from madlake.mentions.cache import EnrichmentCache
    from madlake.mentions.llm import LLMConfig, LLMEnricher
    from madlake.names import Table
    from madlake.pipelines.mentions import process
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools

    from tests.integration.fake_openai import fake_openai

    init_lakehouse()
    load_dim_tools()
    now = datetime(2025, 8, 8, tzinfo=UTC)
    comments = load_table(Table.REDDIT_COMMENTS)
    rows = [
        {"id": f"zc{i}", "fullname": f"t1_zc{i}", "link_id": "t3_a", "submission_id": "a", "subreddit": "x",
         "body": f"We use Airflow and I love Dagster ({i}).", "created_at": now, "first_seen_at": now,
         "last_seen_at": now, "loaded_at": now, "is_deleted": False, "is_removed": False, "source": "api"}
        for i in range(N_BAD)
    ]  # fmt: skip
    merge(comments, rows_to_arrow(comments, rows), ["id"], CommitContext("t", "r", "t"))
    good_answer = {"tool_id": "airflow", "summary": "Uses Airflow.", "sentiment_score": 0.5, "usage_kind": "first_hand"}
    bad = malformed_records(
        good_answer,
        required=["tool_id", "summary", "sentiment_score", "usage_kind"],
        typed={"sentiment_score": "float", "usage_kind": "str", "tool_id": "str", "summary": "str"},
        n=N_BAD,
        seed=5,
    )
    with fake_openai() as fake:
        fake.script = [
            {"content": json.dumps({"tools": [m.record]})}
            if i % 5
            else {"content": json.dumps({"tools": [m.record]})[: 10 + i % 40]}  # cut off mid-answer
            for i, m in enumerate(bad)
        ]
        config = LLMConfig(base_url=fake.url, model="fake-model", api_key="k", timeout=5, max_retries=1)
        llm = LLMEnricher(config, cache=EnrichmentCache(tmp_path / "cache.sqlite"))
        result = process(method="llm", llm=llm)

    dead = query("select reason from rejected_records where source = 'llm'")
    mentions = query(
        "select method, count(distinct content_id) as items, count(*) as n from reddit_mentions group by 1"
    )
    record(
        "bad_input_llm_answers",
        answers_tried=N_BAD,
        kinds=dict(Counter(m.kind for m in bad)),
        answers_rejected=result["llm"]["rejected"],
        dead_letters=len(dead),
        items_with_mentions=sum(m["items"] for m in mentions),
        crashes=0,
    )
    assert result["llm"]["rejected"] == N_BAD and len(dead) == N_BAD
    assert all(d["reason"] for d in dead)
    assert mentions == [{"method": "lexicon", "items": N_BAD, "n": 2 * N_BAD}]  # airflow + dagster per item
