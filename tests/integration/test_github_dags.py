"""The two GitHub API DAGs through Airflow (``dag.test``) on the replay recordings: the demo's snapshot step, then the
star backfill on the test overlay's synthesized stargazer pages (not bundled: they are not real data)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from madlake.names import Dag

from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

pytestmark = pytest.mark.integration

META = json.loads((BUNDLED_REPLAY_DIR / "github" / "_meta.json").read_text())


def demo_steps():
    from madlake.demo import DEMO_STEPS, DemoStep

    steps = [s for s in DEMO_STEPS if s.dag_id == Dag.GITHUB_METRICS]
    return [*steps, DemoStep(Dag.GITHUB_STAR_HISTORY, conf={"since": "2026-05-25", "date": "2026-08-22"})]


def test_demo_loads_snapshots_and_star_history_from_replay(lakehouse: Path) -> None:
    from madlake.catalog import load_catalog
    from madlake.orchestration.runner import run_dag
    from madlake.sql.engine import get_engine

    steps = demo_steps()
    assert [s.dag_id for s in steps] == [Dag.GITHUB_METRICS, Dag.GITHUB_STAR_HISTORY]
    for step in steps:
        for day in step.days:
            run_dag(step.dag_id, day, conf=step.conf or None)
    engine = get_engine()

    snap = engine.query("select * from github_repo_snapshots order by repo").to_pylist()
    recorded = sorted(
        p.relative_to(BUNDLED_REPLAY_DIR / "github" / "repos").with_suffix("").as_posix()
        for p in (BUNDLED_REPLAY_DIR / "github" / "repos").glob("*/*.json")
    )
    tracked = {r.lower(): t for r, t in load_catalog().github_repos().items()}
    expected = sorted(r for r in recorded if r.lower() in tracked)
    assert [r["repo"] for r in snap] == expected and len(expected) >= 30
    assert {r["snapshot_date"] for r in snap} == {date(2026, 8, 22)}
    assert {r["origin"] for r in snap} == {"replay"}
    duck = next(r for r in snap if r["repo"] == "duckdb/duckdb")
    # The real figures of 2026-08-22 (EvanLi/Github-Ranking), as recorded.
    body = json.loads((BUNDLED_REPLAY_DIR / "github" / "repos" / "duckdb" / "duckdb.json").read_text())
    assert (duck["stars"], duck["forks"], duck["open_issues_and_prs"]) == (
        body["stargazers_count"],
        body["forks_count"],
        body["open_issues_count"],
    )
    assert duck["tool_id"] == "duckdb" and duck["license"] is None  # unknown stays unknown

    stars = engine.query(
        "select repo, count(*) as days, sum(new_stars) as new, max(cumulative_stars) as last, min(origin) as origin "
        "from github_stars_daily group by repo order by repo"
    ).to_pylist()
    assert sorted(r["repo"] for r in stars) == sorted(META["stargazers"])
    for r in stars:
        assert r["days"] == 90 and r["origin"] == "sample"
    duck_stars = next(r for r in stars if r["repo"] == "duckdb/duckdb")
    assert duck_stars["last"] == duck["stars"]  # cumulative on the last day = the star count of that day
    # Stars gained 2026-05-25..2026-08-22 = the real counts' difference (38,377 on 2026-05-24 in Github-Ranking;
    # duckdb lost no star in between, so no withdrawn star is missing from the synthesized stargazer list).
    assert duck_stars["new"] == duck["stars"] - 38377


def test_star_history_dag_fails_on_an_inverted_window_and_writes_nothing(lakehouse: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    with pytest.raises(DagRunFailedError, match="backfill_stars"):
        run_dag(Dag.GITHUB_STAR_HISTORY, None, conf={"since": "2026-09-01", "date": "2026-08-22", "repos": []})
    assert load_table(Table.GITHUB_STARS_DAILY).scan().to_arrow().num_rows == 0


def test_recordings_stay_small_and_say_what_is_real() -> None:
    root = BUNDLED_REPLAY_DIR / "github"
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    # The shared budget for GitHub replay: 4 MB (API recordings + the github_history files, ~2 MB of them).
    assert size < 4_000_000, f"recordings are {size} bytes"
    assert max(p.stat().st_size for p in root.rglob("*") if p.is_file()) < 5_000_000
    provenance = (root / "PROVENANCE.md").read_text()
    for phrase in ("reconstructed", "synthesized", "EvanLi/Github-Ranking", "scripts/build_github_replay.py"):
        assert phrase in provenance


def test_bundled_renames_are_followed(lakehouse: Path) -> None:
    from madlake.pipelines.github_snapshots import snapshot_repos
    from madlake.sql.engine import get_engine

    day = date(2026, 8, 22)
    summary = snapshot_repos(
        day, repos={"hwchase17/langchain": "langchain", "ggerganov/llama.cpp": "llamacpp"}, source_mode="replay"
    )
    assert summary["renamed"] == 2
    rows = get_engine().query("select repo, renamed_from, stars from github_repo_snapshots order by repo").to_pylist()
    assert [(r["repo"], r["renamed_from"]) for r in rows] == [
        ("ggml-org/llama.cpp", "ggerganov/llama.cpp"),
        ("langchain-ai/langchain", "hwchase17/langchain"),
    ]
    assert [r["stars"] for r in rows] == [125069, 144741]  # the real 2026-08-22 figures of the new names
