"""The github_history pipeline on the bundled genuine files, into a private local lakehouse."""

from __future__ import annotations

import csv
import gzip
import logging
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from madlake.config import BUNDLED_REPLAY_DIR
from madlake.names import Table

GITHUB = BUNDLED_REPLAY_DIR / "github"
HISTORY_FOLDERS = ("github-ranking", "best-of-ml-python", "best-of-python")


def history_rows(**where: Any) -> list[dict[str, Any]]:
    from madlake.lakehouse.tables import load_table

    rows = load_table(Table.GITHUB_REPO_HISTORY).scan().to_arrow().to_pylist()
    return sorted(
        (r for r in rows if all(r[k] == v for k, v in where.items())),
        key=lambda r: (r["day"], r["repo"], r["source"]),
    )


def without_loaded_at(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "loaded_at"} for r in rows]


def dead_letters() -> list[dict[str, Any]]:
    from madlake.lakehouse.tables import load_table

    rows = load_table(Table.REJECTED_RECORDS).scan().to_arrow().to_pylist()
    return sorted((r for r in rows if r["source"] == "github_history"), key=lambda r: (r["run_date"], r["reason"]))


def genuine(year: int, day: str, repo_url_suffix: str) -> list[dict[str, str]]:
    path = GITHUB / "github-ranking" / f"DERIVED_tracked_repos_{year}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["date"] == day and r["repo_url"].endswith(repo_url_suffix)]


def snapshots() -> int:
    from madlake.lakehouse.tables import load_table

    return len(load_table(Table.GITHUB_REPO_HISTORY).snapshots())


def test_spark_stars_on_a_chosen_day_equal_that_days_genuine_row(lakehouse: Path) -> None:
    from madlake.pipelines.github_history import load_range

    summary = load_range(date(2024, 1, 20), date(2024, 1, 31), source_mode="replay")
    assert summary["rows"] > 0 and summary["rejected"] == 0 and summary["commits"] == 1
    for day in ("2024-01-22", "2024-01-25"):
        rows = genuine(2024, day, "/apache/spark")
        assert rows, f"apache/spark is in the genuine file on {day}"
        (spark,) = history_rows(day=date.fromisoformat(day), repo="apache/spark")
        assert spark["stars"] == int(rows[-1]["stars"]), day  # several lists: the latest observation
        assert spark["forks"] == int(rows[-1]["forks"]) and spark["open_issues"] == int(rows[-1]["issues"])
        assert spark["lists"] == ",".join(r["item"] for r in rows)
        assert spark["tool_id"] == "spark" and spark["listed_as"] == "apache/spark"
        assert spark["source"] == "github-ranking" and spark["closed_issues"] is None  # not in this source


def test_renamed_repo_rows_land_under_the_tracked_repo(lakehouse: Path) -> None:
    from madlake.pipelines.github_history import load_range

    load_range(date(2023, 3, 13), date(2023, 3, 13), source_mode="replay")
    (row,) = history_rows(tool_id="langchain")
    assert (row["repo"], row["listed_as"]) == ("langchain-ai/langchain", "hwchase17/langchain")
    (genuine_row,) = genuine(2023, "2023-03-13", "/hwchase17/langchain")
    assert row["stars"] == int(genuine_row["stars"])
    assert not history_rows(repo="hwchase17/langchain")


def test_rerun_is_idempotent_and_a_run_replaces_exactly_its_days(lakehouse: Path) -> None:
    from madlake.pipelines.github_history import load_day, load_range

    load_range(date(2021, 1, 1), date(2021, 1, 31), source_mode="replay")
    first = history_rows()
    assert {r["source"] for r in first} == {"github-ranking", "best-of-ml-python", "best-of-python"}
    before = snapshots()
    load_range(date(2021, 1, 1), date(2021, 1, 31), source_mode="replay")
    assert without_loaded_at(history_rows()) == without_loaded_at(first)
    assert snapshots() - before <= 2  # one overwrite: a delete and an append snapshot

    loaded_at = {(r["day"], r["repo"], r["source"]): r["loaded_at"] for r in history_rows()}
    load_day(date(2021, 1, 12), source_mode="replay")
    after = history_rows()
    assert without_loaded_at(after) == without_loaded_at(first)
    changed = {
        (r["day"], r["repo"], r["source"])
        for r in after
        if r["loaded_at"] != loaded_at[(r["day"], r["repo"], r["source"])]
    }
    assert changed and {day for day, _, _ in changed} == {date(2021, 1, 12)}  # only its day was rewritten
    assert {s for d, _, s in changed} == {"github-ranking", "best-of-python"}


def test_a_day_without_any_file_succeeds_and_says_so(lakehouse: Path, caplog: pytest.LogCaptureFixture) -> None:
    from madlake.pipelines.github_history import load_day

    caplog.set_level(logging.INFO, logger="madlake.pipelines.github_history")
    assert not genuine(2019, "2019-01-01", "")  # Github-Ranking has no file for that day
    summary = load_day(date(2019, 1, 1), source_mode="replay")
    assert summary["rows"] == 0 and summary["days_with_rows"] == 0
    assert "github-ranking: no file for 2019-01-01" in caplog.text
    assert "best-of-ml-python: no file for 2019-01-01" in caplog.text
    assert history_rows() == []


def test_the_whole_bundled_history_loads_in_one_overwrite(lakehouse: Path) -> None:
    from madlake.pipelines.github_history import load_range

    before = snapshots()
    summary = load_range(date(2018, 12, 18), date(2026, 8, 22), source_mode="replay")
    rows = history_rows()
    assert len(rows) == summary["rows"] == 73405
    assert summary["rows_by_source"] == {"best-of-ml-python": 1429, "best-of-python": 348, "github-ranking": 71628}
    assert len({(r["day"], r["repo"], r["source"]) for r in rows}) == len(rows)
    assert snapshots() - before <= 2
    assert summary["rejected"] == 0 and summary["bad_files"] == [] and dead_letters() == []


def _copy_history(tmp_path: Path) -> Path:
    root = tmp_path / "replay"
    for folder in HISTORY_FOLDERS:
        shutil.copytree(GITHUB / folder, root / "github" / folder)
    return root


def test_bad_files_are_dead_lettered_and_their_days_keep_their_rows(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.github_history import load_range

    start, end = date(2021, 1, 1), date(2021, 1, 15)
    load_range(start, end, source_mode="replay")
    stored = history_rows()
    assert {r["source"] for r in stored} == {"github-ranking", "best-of-ml-python", "best-of-python"}

    root = _copy_history(tmp_path)
    github = root / "github"
    # A ranking year file cut short, a best-of snapshot without its star_count column, an undatable snapshot.
    derived = github / "github-ranking" / "DERIVED_tracked_repos_2021.csv.gz"
    derived.write_bytes(derived.read_bytes()[:5000])
    snapshot = github / "best-of-ml-python" / "2021-01-01_projects.csv.gz"
    text = gzip.decompress(snapshot.read_bytes()).decode().replace(",star_count,", ",stars,", 1)
    snapshot.write_bytes(gzip.compress(text.encode()))
    (github / "best-of-python" / "latest_projects.csv").write_text("github_id\n")
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(root))

    summary = load_range(start, end, source_mode="replay")
    assert len(summary["bad_files"]) == 3
    # Nothing lost: the unusable files' days keep what was stored; the good snapshot (best-of-python) reloads.
    assert without_loaded_at(history_rows()) == without_loaded_at(stored)
    letters = dead_letters()
    reasons = {r["record_id"]: r["reason"] for r in letters}
    assert "corrupt or truncated gzip" in reasons["github-ranking/DERIVED_tracked_repos_2021.csv.gz"]
    assert "missing column(s) ['star_count']" in reasons["best-of-ml-python/2021-01-01_projects.csv.gz"]
    assert "cannot date" in reasons["best-of-python/latest_projects.csv"]
    assert {r["entity"] for r in letters} == {"github-ranking", "best-of-ml-python", "best-of-python"}

    # Rerunning records the same dead letters once (replaced, not appended).
    load_range(start, end, source_mode="replay")
    assert len(dead_letters()) == 3


def test_a_bad_row_is_a_dead_letter_and_the_rest_of_the_day_loads(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.github_history import load_range

    root = _copy_history(tmp_path)
    derived = root / "github" / "github-ranking" / "DERIVED_tracked_repos_2020.csv.gz"
    with gzip.open(derived, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    day = "2020-06-01"
    target = next(i for i, r in enumerate(rows) if r["date"] == day and r["repo_url"].endswith("/pytorch/pytorch"))
    duplicates = [r for r in rows if r["date"] == day and r["repo_url"].endswith("/pytorch/pytorch")]
    rows[target] = {**rows[target], "stars": "a lot"}
    rows.append({**rows[0], "date": day, "repo_url": "https://github.com/someone/untracked"})
    with gzip.open(derived, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(root))

    summary = load_range(date(2020, 6, 1), date(2020, 6, 1), source_mode="replay")
    assert summary["rejected"] == 2
    reasons = " | ".join(r["reason"] for r in dead_letters())
    assert "column stars: 'a lot' is not a number" in reasons
    assert "'someone/untracked' is not in the tools catalog" in reasons
    assert {r["run_date"] for r in dead_letters()} == {day}
    loaded = {r["repo"] for r in history_rows()}
    assert "apache/spark" in loaded and len(loaded) > 10
    pytorch = history_rows(repo="pytorch/pytorch")
    assert len(pytorch) == (1 if len(duplicates) > 1 else 0)  # its other list rows still carry the day


def test_run_task_reads_a_conf_range_and_annotates_the_asset(lakehouse: Path) -> None:
    from types import SimpleNamespace

    from airflow.sdk import Asset
    from madlake.names import asset_uri
    from madlake.orchestration.tasks import github_history as run_task

    class OutletEvents(dict):
        def __missing__(self, key: Asset) -> SimpleNamespace:
            self[key] = SimpleNamespace(extra={})
            return self[key]

    events = OutletEvents()
    context = {
        "dag_run": SimpleNamespace(conf={"start": "2022-02-01", "end": "2022-02-10"}),
        "params": {},
        "outlet_events": events,
        "data_interval_start": datetime(2026, 1, 1),
    }
    summary = run_task(context)
    assert (summary["start"], summary["end"]) == ("2022-02-01", "2022-02-10")
    extra = events[Asset(asset_uri(Table.GITHUB_REPO_HISTORY))].extra
    assert extra == {"table": "github_repo_history", "days": ["2022-02-01", "2022-02-10"], "rows": summary["rows"]}
    assert extra["rows"] == len(history_rows()) > 0

    summary = run_task({"dag_run": SimpleNamespace(conf={}), "params": {}, "data_interval_start": datetime(2022, 2, 3)})
    assert (summary["start"], summary["end"]) == ("2022-02-03", "2022-02-03")


def test_a_replay_folder_without_history_writes_nothing(
    lakehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.pipelines.github_history import load_range

    load_range(date(2022, 3, 1), date(2022, 3, 1), source_mode="replay")
    stored = history_rows()
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match="not a GitHub history replay folder"):
        load_range(date(2022, 3, 1), date(2022, 3, 1), source_mode="replay")
    assert history_rows() == stored and stored
