"""Parsing the genuine Github-Ranking and best-of files (bundled replay) into github_repo_history rows."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from madlake.catalog import load_catalog
from madlake.config import BUNDLED_REPLAY_DIR
from madlake.sources.github_history.parse import (
    BEST_OF_ML,
    RANKING,
    BadValueError,
    HistoryFileError,
    best_of_day,
    count,
    decode,
    parse_best_of,
    parse_ranking,
    timestamp,
)
from madlake.sources.github_history.replay import ReplayFiles

GITHUB = BUNDLED_REPLAY_DIR / "github"


@pytest.fixture(scope="module")
def names() -> dict[str, tuple[str, str]]:
    return load_catalog().github_names()


def derived(year: int) -> Path:
    return GITHUB / "github-ranking" / f"DERIVED_tracked_repos_{year}.csv.gz"


def genuine_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def ranking(year: int, names: dict[str, tuple[str, str]], **kwargs: Any) -> list[dict]:
    path = derived(year)
    parsed = parse_ranking(decode(path.read_bytes(), path.name), path.name, names, untracked="reject", **kwargs)
    assert parsed.rejected == []
    return parsed.rows


def test_a_repo_in_several_lists_is_counted_once_with_its_latest_figures(names: dict) -> None:
    day = "2024-01-25"  # apache/spark is in top-100-forks and Scala that day, one star apart
    genuine = [r for r in genuine_rows(derived(2024)) if r["date"] == day and r["repo_url"].endswith("/apache/spark")]
    assert [r["item"] for r in genuine] == ["top-100-forks", "Scala"]
    assert genuine[0]["stars"] != genuine[1]["stars"]
    rows = [
        r for r in ranking(2024, names, start=date(2024, 1, 25), end=date(2024, 1, 25)) if r["repo"] == "apache/spark"
    ]
    assert len(rows) == 1
    (spark,) = rows
    assert spark["lists"] == "top-100-forks,Scala"
    last = genuine[-1]  # the later list is the later observation
    assert (spark["stars"], spark["forks"], spark["open_issues"]) == (
        int(last["stars"]),
        int(last["forks"]),
        int(last["issues"]),
    )
    assert spark["last_commit"] == datetime.fromisoformat(last["last_commit"].replace("Z", "+00:00"))
    assert spark["tool_id"] == "spark" and spark["source"] == RANKING


def test_every_repo_day_of_the_bundled_ranking_appears_once(names: dict) -> None:
    for year in (2019, 2023):
        genuine = {(r["date"], r["repo_url"].lower()) for r in genuine_rows(derived(year))}
        rows = ranking(year, names)
        keys = [(r["day"], r["repo"]) for r in rows]
        assert len(keys) == len(set(keys)) == len(genuine)


def test_renamed_repos_land_under_the_tracked_name(names: dict) -> None:
    rows = ranking(2023, names)
    langchain = [r for r in rows if r["tool_id"] == "langchain"]
    assert {r["repo"] for r in langchain} == {"langchain-ai/langchain"}
    assert {r["listed_as"] for r in langchain} == {"hwchase17/langchain", "langchain-ai/langchain"}
    first = min(langchain, key=lambda r: r["day"])
    assert first["listed_as"] == "hwchase17/langchain" and first["day"] == date(2023, 3, 13)
    redis = [r for r in ranking(2019, names) if r["tool_id"] == "redis"]
    assert {r["repo"] for r in redis} == {"redis/redis"} and "antirez/redis" in {r["listed_as"] for r in redis}
    clickhouse = [r for r in ranking(2019, names) if r["tool_id"] == "clickhouse"]
    assert {r["listed_as"] for r in clickhouse} >= {"yandex/ClickHouse"}
    assert {r["repo"] for r in clickhouse} == {"ClickHouse/ClickHouse"}


def test_a_name_alone_is_not_a_repo(names: dict) -> None:
    header = "rank,item,repo_name,stars,forks,language,repo_url,username,issues,last_commit,description\n"
    text = header + (
        "1,Java,spark,9000,1500,Java,https://github.com/perwendel/spark,perwendel,10,2019-01-02T02:17:51Z,web\n"
        "2,Scala,spark,30000,25000,Scala,https://github.com/apache/spark,apache,0,2019-01-02T02:17:51Z,engine\n"
    )
    parsed = parse_ranking(text, "github-ranking-2019-01-02.csv", names, day=date(2019, 1, 2))
    assert [r["repo"] for r in parsed.rows] == ["apache/spark"]
    assert parsed.untracked == {"perwendel/spark": 1} and parsed.rejected == []


def test_an_untracked_repo_in_a_derived_file_is_a_dead_letter(names: dict) -> None:
    text = (
        "date,rank,item,repo_name,stars,forks,language,repo_url,username,issues,last_commit,description\n"
        "2019-01-02,1,Java,spark,9000,1500,Java,https://github.com/perwendel/spark,perwendel,10,2019-01-02T02:17:51Z,x\n"
    )
    parsed = parse_ranking(text, "DERIVED_tracked_repos_2019.csv.gz", names, untracked="reject")
    assert parsed.rows == []
    (rejected,) = parsed.rejected
    assert "'perwendel/spark' is not in the tools catalog" in rejected.reason
    assert rejected.day == date(2019, 1, 2) and rejected.record_id == "2019-01-02/perwendel/spark/Java"


def test_bad_values_reject_their_row_and_the_rest_loads(names: dict) -> None:
    header = "date,rank,item,repo_name,stars,forks,language,repo_url,username,issues,last_commit,description\n"
    good = "2019-01-02,5,top-100-stars,tensorflow,117741,70998,C++,https://github.com/tensorflow/tensorflow,t,1888,2019-01-02T02:17:51Z,d\n"
    lines = [
        "2019-01-02,9,top-100-stars,keras,lots,14112,Python,https://github.com/keras-team/keras,k,2042,2019-01-02T03:17:43Z,d\n",
        "2019-01-02,9,top-100-stars,keras,36974,14112,Python,https://github.com/keras-team/keras,k,2042,yesterday,d\n",
        "2019-13-45,9,top-100-stars,keras,36974,14112,Python,https://github.com/keras-team/keras,k,2042,,d\n",
        "2019-01-02,9,top-100-stars,keras,36974,14112,Python,not a url,k,2042,,d\n",
        "2019-01-02,9,top-100-stars,keras,-3,14112,Python,https://github.com/keras-team/keras,k,2042,,d\n",
        "2019-01-02,9,top-100-stars\n",
        "2019-01-02,7,Python,pandas,20000,,Python,https://github.com/pandas-dev/pandas,p,,,d\n",
    ]
    parsed = parse_ranking(
        header + good + "".join(lines), "DERIVED_tracked_repos_2019.csv.gz", names, untracked="reject"
    )
    reasons = [r.reason for r in parsed.rejected]
    assert len(reasons) == 6, reasons
    assert "column stars: 'lots' is not a number" in reasons[0]
    assert "column last_commit: 'yesterday' is not an ISO-8601 timestamp" in reasons[1]
    assert "date '2019-13-45' is not a YYYY-MM-DD date" in reasons[2]
    assert parsed.rejected[2].day == date(2019, 1, 1)  # undatable: the first day of the file's year
    assert "repo_url 'not a url' is not a GitHub repository URL" in reasons[3]
    assert "column stars: '-3' is negative" in reasons[4]
    assert "fewer fields" in reasons[5]
    by_repo = {r["repo"]: r for r in parsed.rows}
    assert set(by_repo) == {"tensorflow/tensorflow", "pandas-dev/pandas"}
    pandas = by_repo["pandas-dev/pandas"]
    assert pandas["stars"] == 20000 and pandas["forks"] is None and pandas["open_issues"] is None  # missing, not 0
    assert pandas["last_commit"] is None


def test_missing_columns_and_unreadable_files_name_the_file(names: dict) -> None:
    with pytest.raises(HistoryFileError, match=r"^github-ranking-2019-01-02.csv: missing column\(s\) \['stars'\]"):
        parse_ranking(
            "rank,item,repo_url,forks,issues,last_commit\n",
            "github-ranking-2019-01-02.csv",
            names,
            day=date(2019, 1, 2),
        )
    with pytest.raises(HistoryFileError, match=r"missing column\(s\) \['date'\]"):
        parse_ranking(
            ",".join(("rank", "item", "stars", "forks", "repo_url", "issues", "last_commit")) + "\n", "x.csv", names
        )
    good = derived(2019).read_bytes()
    with pytest.raises(HistoryFileError, match=r"^DERIVED_tracked_repos_2019\.csv\.gz: corrupt or truncated gzip"):
        decode(good[: len(good) // 2], "DERIVED_tracked_repos_2019.csv.gz")
    with pytest.raises(HistoryFileError, match="empty file"):
        decode(b"", "a.csv")
    with pytest.raises(HistoryFileError, match="not UTF-8"):
        decode(b"\xff\xfe\x00bad", "a.csv")
    with pytest.raises(HistoryFileError, match=r"missing column\(s\) \['star_count'"):
        parse_best_of(
            "github_id,category\nduckdb/duckdb,db\n",
            "best-of-ml-python/2021-01-01_projects.csv",
            names,
            BEST_OF_ML,
            date(2021, 1, 1),
        )


def test_best_of_snapshot_maps_github_id_through_the_catalog(names: dict) -> None:
    path = GITHUB / "best-of-ml-python" / "2021-02-04_projects.csv.gz"
    genuine = {r["github_id"]: r for r in genuine_rows(path)}
    parsed = parse_best_of(decode(path.read_bytes(), path.name), path.name, names, BEST_OF_ML, best_of_day(path.name))
    assert parsed.rejected == [] and len(parsed.rows) == len(genuine)
    rows = {r["repo"]: r for r in parsed.rows}
    mlflow = rows["mlflow/mlflow"]
    g = genuine["mlflow/mlflow"]
    assert mlflow["stars"] == int(float(g["star_count"])) and mlflow["contributors"] == int(
        float(g["contributor_count"])
    )
    assert mlflow["closed_issues"] == int(float(g["closed_issue_count"])) and mlflow["lists"] == g["category"]
    assert mlflow["day"] == date(2021, 2, 4) and mlflow["source"] == BEST_OF_ML and mlflow["last_commit"] is None
    # Former names in the snapshot land under the tracked repo, listed_as keeps the file's name.
    assert rows["wandb/wandb"]["listed_as"] == "wandb/client"
    assert rows["jax-ml/jax"]["listed_as"] == "google/jax"


def test_best_of_untracked_projects_are_counted_not_rejected(names: dict) -> None:
    text = "github_id,category,star_count,fork_count,contributor_count,open_issue_count,closed_issue_count,commit_count,release_count\n"  # noqa: E501
    text += "someone/nobody-tracks,misc,10.0,1.0,1.0,0.0,0.0,5.0,\n,misc,1,1,1,1,1,1,1\n"
    text += "duckdb/duckdb,db,100.0,7.0,3.0,1.0,2.0,400.0,\n"
    text += "DuckDB/DuckDB,db,101.0,7.0,3.0,1.0,2.0,400.0,\n"
    text += "pola-rs/polars,df,12.5,7.0,3.0,1.0,2.0,400.0,\n"
    parsed = parse_best_of(text, "best-of-python/2022-01-06_projects.csv", names, "best-of-python", date(2022, 1, 6))
    assert parsed.untracked == {"someone/nobody-tracks": 1, "<no github_id>": 1}
    assert [r["repo"] for r in parsed.rows] == ["duckdb/duckdb"]
    assert parsed.rows[0]["releases"] is None  # empty cell: missing, not 0
    reasons = [r.reason for r in parsed.rejected]
    assert "listed again in the same snapshot" in reasons[0] and "'12.5' is not a whole number" in reasons[1]


def test_catalog_knows_every_rename_the_best_of_files_record(names: dict) -> None:
    """best-of files say when a project moved (``updated_github_id``): the old name must map to the tracked repo."""
    missed = set()
    for folder in ("best-of-ml-python", "best-of-python"):
        for path in sorted((GITHUB / folder).glob("*_projects.csv.gz")):
            for row in genuine_rows(path):
                new = (row.get("updated_github_id") or "").lower()
                if new in names and row["github_id"].lower() not in names:
                    missed.add((row["github_id"], new))
    assert not missed


def test_cells() -> None:
    assert count("83340.0") == 83340 and count("12") == 12 and count("") is None and count(" ") is None
    assert count(None) is None and count("nan") is None
    for bad in ("1.5", "inf", "abc", "-1"):
        with pytest.raises(BadValueError):
            count(bad)
    assert timestamp("2019-01-02T02:17:51Z") == datetime(2019, 1, 2, 2, 17, 51, tzinfo=UTC)
    assert timestamp("2019-01-02 02:17:51") == datetime(2019, 1, 2, 2, 17, 51, tzinfo=UTC)
    assert timestamp("") is None
    assert best_of_day("2021-01-12_projects.csv.gz") == date(2021, 1, 12)
    for bad in ("latest_projects.csv", "2021-02-30_projects.csv"):
        with pytest.raises(HistoryFileError, match="cannot date"):
            best_of_day(bad)


def test_replay_files_cover_a_range() -> None:
    files = ReplayFiles(GITHUB)
    assert [f.year for f in files.ranking_files(date(2019, 12, 30), date(2021, 1, 2))] == [2019, 2020, 2021]
    found, undatable = files.best_of_files(BEST_OF_ML, date(2021, 1, 1), date(2021, 3, 31))
    assert [f.day for f in found] == [date(2021, 1, 1), date(2021, 2, 4), date(2021, 3, 4)] and undatable == []
    assert files.ranking_files(date(2010, 1, 1), date(2010, 12, 31)) == []


def test_bundled_best_of_rows_are_genuine_lines() -> None:
    """The trimmed files keep the original header and whole original lines (checked against the csv round trip)."""
    path = GITHUB / "best-of-python" / "2024-06-06_projects.csv.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    assert out.getvalue() == text
    assert rows[0][:3] == ["", "name", "github_id"] and len(rows) > 5
