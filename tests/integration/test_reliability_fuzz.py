"""Fuzz: ≥ 1,000 generated malformed records per source, mixed into genuine input, through each real load path.

Every source registered with :func:`tests.integration.fuzz.fuzz_source` (Reddit submissions, PyPI daily rows, GitHub
repository snapshots, the PyPI monthly snapshots and the GitHub history rows) must show zero crashed runs, every bad
record in ``rejected_records`` with a reason, and every good record loaded. Figures go to
``test-artifacts/reliability.json`` (one ``fuzz_<source>`` entry per source).

What a "record" is follows each source's own rejection unit: a Reddit thing, a PyPI daily row, a GitHub ``/repos``
answer, a GitHub history CSV row, and for the PyPI monthly lists a whole snapshot file (one bad row makes its ranks
and list minimum untrustworthy, so the file is refused; PROVENANCE of that source).
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import random
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.integration._reliability import record
from tests.integration.fuzz import SOURCES, FuzzCase, FuzzOutcome, check, distinct, fuzz_source

pytestmark = pytest.mark.integration


def _replay_root() -> Path:
    from tests.conftest import REPLAY_DIR

    return REPLAY_DIR


def _query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params or []).to_pylist()


def _records(m: Any, wrap: Any) -> Any:
    return wrap(m.record) if isinstance(m.record, dict) else m.record


# -------------------------------------------------------------------------------------------------------- reddit
@fuzz_source(
    "reddit",
    required=["id", "created_utc", "title", "subreddit"],
    typed={"created_utc": "float", "score": "int", "num_comments": "int", "title": "str", "upvote_ratio": "float"},
    seed=11,
    id_field="id",
    n=1100,  # identical bad records (the ``null`` ones) are one dead letter: 1,100 generated, > 1,000 distinct
)
def fuzz_reddit(case: FuzzCase) -> FuzzOutcome:
    from madlake.pipelines import reddit as pipeline

    day = date(2025, 8, 8)
    replay = case.tmp / "replay" / "reddit"
    shutil.copytree(_replay_root() / "reddit", replay)
    shutil.rmtree(replay / "localllama")  # replay the flat recording of 2025-08-08 (r/LocalLLaMA/new.json) alone
    listing_path = replay / "r" / "LocalLLaMA" / "new.json"
    listing = json.loads(listing_path.read_text())
    good = listing["data"]["children"]
    bad = case.make_bad(good[0]["data"])
    listing["data"]["children"] = good + [_records(m, lambda r: {"kind": "t3", "data": r}) for m in bad]
    random.Random(case.seed).shuffle(listing["data"]["children"])
    listing_path.write_text(json.dumps(listing))
    pipeline.ingest(day, subreddits=["LocalLLaMA"], fetch_comments=False, replay_dir=replay, max_attempts=1)
    pipeline.load(day)
    dead = _query(
        "select reason from rejected_records where source = 'reddit' and entity = 'submission' and run_date = ?",
        [day.isoformat()],
    )
    ids = {r["id"] for r in _query("select id from reddit_submissions")}
    return FuzzOutcome(distinct(bad), dead, len(ids & {g["data"]["id"] for g in good}), len(good))


# -------------------------------------------------------------------------------------------------------- pypi daily
@fuzz_source(
    "pypi_daily",
    required=["download_date", "project", "version", "downloads"],
    typed={"download_date": "date", "downloads": "int", "ci": "bool", "project": "str", "version": "str"},
    seed=12,
)
def fuzz_pypi_daily(case: FuzzCase) -> FuzzOutcome:
    from madlake.pipelines.pypi import load_day

    from tests.fixtures.malformed import malformed_lines

    day = date(2026, 3, 1)
    good_lines = gzip.decompress((_replay_root() / "pypi" / f"{day}.jsonl.gz").read_bytes()).splitlines()
    good = [json.loads(line) for line in good_lines]
    bad = case.make_bad(good[0])
    lines = good_lines + malformed_lines(bad)
    random.Random(case.seed).shuffle(lines)
    folder = case.tmp / "replay" / "pypi"
    folder.mkdir(parents=True)
    (folder / f"{day}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_REPLAY_DIR", str(case.tmp / "replay"))
        load_day(day)
    dead = _query("select reason from rejected_records where source = 'pypi' and run_date = ?", [day.isoformat()])
    loaded = _query("select count(*) as n from pypi_downloads where download_date = ?", [day])[0]["n"]
    return FuzzOutcome(len(bad), dead, loaded, len(good))


# -------------------------------------------------------------------------------------------------------- github
@fuzz_source(
    "github_snapshots",
    required=["full_name", "stargazers_count"],
    typed={"stargazers_count": "int", "forks_count": "int", "archived": "bool", "pushed_at": "date",
           "full_name": "str", "open_issues_count": "int"},
    seed=13,
)  # fmt: skip
def fuzz_github_snapshots(case: FuzzCase) -> FuzzOutcome:
    from madlake.pipelines.github import snapshot_repos
    from madlake.sources.github.replay import GitHubReplayServer

    day = date(2026, 8, 22)
    root = case.tmp / "replay" / "github"
    shutil.copytree(_replay_root() / "github", root)
    recorded = sorted(
        p.relative_to(root / "repos").with_suffix("").as_posix()
        for p in root.glob("repos/*/*.json")
        if not p.name.endswith(".headers.json")
    )
    good_body = json.loads((root / "repos" / f"{recorded[0]}.json").read_text())
    bad = case.make_bad(good_body)
    (root / "repos" / "badowner").mkdir()
    for i, m in enumerate(bad):
        text = json.dumps(m.record)
        # every 50th is a broken recording (cut JSON): the stand-in answers 422 naming the file
        (root / "repos" / "badowner" / f"bad{i}.json").write_text(text[: len(text) // 2] if i % 50 == 7 else text)
    genuine = {name: "duckdb" for name in recorded}
    with GitHubReplayServer(root) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps({"conn_type": "generic", "host": server.url}))
        clean = snapshot_repos(day, repos=genuine, source_mode="live")
        snapshot_repos(day, repos=genuine | {f"badowner/bad{i}": "duckdb" for i in range(len(bad))}, source_mode="live")
    dead = _query(
        "select record_id, reason from rejected_records where source = 'github' and run_date = ? "
        "and record_id like 'badowner/%'",
        [day.isoformat()],
    )
    loaded = _query("select count(*) as n from github_repo_snapshots where snapshot_date = ?", [day])[0]["n"]
    return FuzzOutcome(len(bad), dead, loaded, clean["rows"], {"broken_recordings": len(bad[7::50])})


# -------------------------------------------------------------------------------------------------------- pypi monthly
@fuzz_source(
    "pypi_monthly",
    required=["project", "download_count"],
    typed={"download_count": "int", "project": "str"},
    seed=14,
)
def fuzz_pypi_monthly(case: FuzzCase) -> FuzzOutcome:
    """Each malformed record is one row of an otherwise genuine snapshot file, so each bad file holds one."""
    from madlake.pipelines.pypi_monthly import load_range

    start, end = date(2024, 1, 1), date(2024, 12, 31)
    src = _replay_root() / "pypi" / "top-pypi-packages-30-days"
    folder = case.tmp / "replay" / "pypi" / "top-pypi-packages-30-days"
    folder.mkdir(parents=True)
    good_files = [p for p in sorted(src.iterdir()) if p.name[:4] == "2024"]
    for p in good_files:
        shutil.copy2(p, folder / p.name)
    template = json.loads(gzip.decompress(good_files[0].read_bytes()))
    good_row = template["rows"][len(template["rows"]) // 2]
    bad = case.make_bad(good_row)
    day = good_files[0].name[:10]
    for i, m in enumerate(bad):
        doc = copy.deepcopy(template)
        doc["rows"][len(doc["rows"]) // 2] = m.record
        (folder / f"{day}_{i:010x}.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode(), compresslevel=1))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_REPLAY_DIR", str(case.tmp / "replay"))
        clean_dir = case.tmp / "clean" / "pypi" / "top-pypi-packages-30-days"
        clean_dir.mkdir(parents=True)
        for p in good_files:
            shutil.copy2(p, clean_dir / p.name)
        mp.setenv("MADLAKE_REPLAY_DIR", str(case.tmp / "clean"))
        clean = load_range(start, end, source_mode="replay")
        mp.setenv("MADLAKE_REPLAY_DIR", str(case.tmp / "replay"))
        load_range(start, end, source_mode="replay")
    names = {f"{day}_{i:010x}.json.gz" for i in range(len(bad))}
    dead = _query(
        "select record_id, reason from rejected_records where source = 'pypi_monthly' and run_date = ?",
        [start.isoformat()],
    )
    dead = [d for d in dead if d["record_id"] in names]
    loaded = _query(
        "select count(*) as n from pypi_downloads_monthly where snapshot_date between ? and ?", [start, end]
    )[0]["n"]
    return FuzzOutcome(len(bad), dead, loaded, clean["rows"], {"files": len(bad) + len(good_files)})


# ------------------------------------------------------------------------------------------------------ github history
RANKING_COLUMNS = ["date", "rank", "item", "repo_name", "stars", "forks", "language", "repo_url", "username",
                   "issues", "last_commit", "description"]  # fmt: skip


@fuzz_source(
    "github_history",
    required=["date", "repo_url", "stars"],
    typed={"stars": "int", "forks": "int", "issues": "int", "last_commit": "date", "repo_url": "str"},
    seed=15,
)
def fuzz_github_history(case: FuzzCase) -> FuzzOutcome:
    """Malformed rows appended to the genuine DERIVED ranking file of 2025 (days 2025-01-01..09; its rows start on
    01-08, and an undatable row of a DERIVED file is reported on the first day of its year, so the range covers it)."""
    from madlake.pipelines.github_history import load_range

    start, end = date(2025, 1, 1), date(2025, 1, 9)
    root = case.tmp / "replay" / "github"
    shutil.copytree(_replay_root() / "github", root)
    path = root / "github-ranking" / "DERIVED_tracked_repos_2025.csv.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    good_row = next(r for r in rows if r["date"] == "2025-01-08")
    bad = case.make_bad(good_row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for m in bad:
        if isinstance(m.record, dict):
            cells = [m.record[c] for c in RANKING_COLUMNS if c in m.record]
            # CSV text cannot carry lone surrogates: what a decoder makes of such bytes is U+FFFD
            writer.writerow([str(c).encode("utf-8", "replace").decode("utf-8").replace("?", "\ufffd") for c in cells])
        else:
            out.write(str(m.record).replace("\n", " ") + "\n")
    damaged = text.rstrip("\n") + "\n" + out.getvalue()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_REPLAY_DIR", str(case.tmp / "replay"))
        clean = load_range(start, end, source_mode="replay")
        clean_dead = len(_query("select 1 from rejected_records where source = 'github_history'"))
        path.write_bytes(gzip.compress(damaged.encode("utf-8")))
        load_range(start, end, source_mode="replay")
    dead = _query("select reason from rejected_records where source = 'github_history'")
    loaded = _query("select count(*) as n from github_repo_history where day between ? and ?", [start, end])[0]["n"]
    return FuzzOutcome(len(bad), dead[clean_dead:], loaded, clean["rows"], {"genuine_rejections": clean_dead})


# -------------------------------------------------------------------------------------------------------- the test
@pytest.mark.parametrize("name", list(SOURCES))
def test_fuzz_source(name: str, lakehouse: Path, tmp_path: Path) -> None:
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools

    init_lakehouse()
    load_dim_tools()
    verdict = check(SOURCES[name], tmp_path)
    record(f"fuzz_{name}", **verdict.figures())
    assert not verdict.problems, f"{name}: {verdict.problems}"


def test_every_source_is_registered() -> None:
    assert set(SOURCES) >= {"reddit", "pypi_daily", "github_snapshots", "pypi_monthly", "github_history"}
