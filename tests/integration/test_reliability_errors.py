"""Errors that did not say what was wrong (issue #13, item 8) and ``madlake sql`` for services (item 9).

Each case is the input of the report, run through the real entry point (the ``madlake`` executable, the replay
servers with the real clients, the backfill task body): one clear line naming the input, exit code 2 for usage
errors, no traceback. Read-only SQL refuses writes and file access outside the warehouse but reads the tables.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

MADLAKE = str(Path(sys.executable).with_name("madlake"))


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MADLAKE_HOME": str(home)}
    return subprocess.run([MADLAKE, *args], env=env, capture_output=True, text=True, check=False, timeout=300)


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The error lines of stderr (not the log lines, not argparse's usage block)."""
    return [line for line in result.stderr.splitlines() if "error:" in line and " INFO " not in line]


USAGE_CASES = [
    (("sql", "selec 1 frm"), "madlake sql: error: the query is not valid SQL", "selec 1 frm"),
    (("sql", "select ?", "--params", '{"a": 1}'), "argument --params: must be a JSON array", '{"a": 1}'),
    (("run", "tools_catalog", "--conf", "[1,2]"), "argument --conf: must be a JSON object", "[1,2]"),
    (("run", "tools_catalog", "--conf", "not json"), "argument --conf: not valid JSON", "not json"),
    (("run", "tools_catalog", "--date", "2026-13-45"), "argument --date: invalid date", "2026-13-45"),
]


@pytest.mark.parametrize(("args", "message", "echo"), USAGE_CASES, ids=[" ".join(c[0]) for c in USAGE_CASES])
def test_usage_errors_are_one_line_naming_the_input_with_exit_code_2(
    lakehouse: Path, args: tuple[str, ...], message: str, echo: str
) -> None:
    result = _cli(*args, home=lakehouse)
    lines = _error_lines(result)
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1 and message in lines[0] and echo in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_failing_command_is_one_line_with_exit_code_1(lakehouse: Path) -> None:
    result = _cli("sql", "select * from no_such_table", home=lakehouse)
    lines = _error_lines(result)
    assert result.returncode == 1 and len(lines) == 1 and "no_such_table" in lines[0], result.stderr[-2000:]


def test_read_only_sql_reads_tables_but_refuses_writes_and_outside_files(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools
    from madlake.sql.engine import LocalEngine, QueryError, ReadOnlyError

    init_lakehouse()
    load_dim_tools()
    secret = tmp_path / "outside.csv"
    secret.write_text("a\n1\n")
    out = tmp_path / "copied.csv"
    engine = LocalEngine()  # a service's engine: read-only by default
    assert engine.query("select count(*) as n from dim_tools").to_pylist()[0]["n"] > 100
    refused = {
        "copy": f"copy (select * from dim_tools) to '{out}'",
        "copy after a query": f"select 1; copy (select 1) to '{out}'",
        "create": "create table t as select 1",
        "attach": f"attach '{tmp_path / 'x.duckdb'}'",
        "set": "set enable_external_access = true",
        "pragma": "pragma database_list",
        "select into": "select 1 into t",
        "install": "install httpfs",
    }
    for sql in refused.values():
        with pytest.raises(ReadOnlyError, match="read-only"):
            engine.query(sql)
    for sql in (f"select * from read_csv('{secret}')", "select * from read_text('/etc/hostname')"):
        with pytest.raises(QueryError, match="disabled by configuration"):
            engine.query(sql)
    assert not out.exists()
    record("sql_read_only", statements_refused=len(refused) + 2, files_written=0)

    cli = _cli("sql", f"copy (select 1 as a) to '{out}'", "--read-only", home=lakehouse)
    assert cli.returncode == 1 and "read-only" in cli.stderr and not out.exists()
    # Without --read-only `madlake sql` is the trusted analyst's tool: COPY works (documented).
    trusted = _cli("sql", f"copy (select 1 as a) to '{out}'", home=lakehouse)
    assert trusted.returncode == 0 and out.exists(), trusted.stderr[-2000:]


def test_a_bad_github_replay_file_is_answered_with_an_error_naming_it(tmp_path: Path) -> None:
    import httpx
    from madlake.sources.github.client import GitHubClient
    from madlake.sources.github.replay import GitHubReplayServer

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    root = tmp_path / "github"
    shutil.copytree(BUNDLED_REPLAY_DIR / "github", root)
    broken = sorted((root / "repos").glob("*/*.json"))[0]
    rel = broken.relative_to(root).as_posix()
    broken.write_text('{"full_name": "cut off', encoding="utf-8")
    with GitHubReplayServer(root) as server:
        started = time.monotonic()
        answer = httpx.get(f"{server.url}/{rel.removesuffix('.json')}", timeout=10)
        client = GitHubClient(server.url, None, sleep=lambda s: None)
        repo = client.repo(rel.removeprefix("repos/").removesuffix(".json"))
        client.close()
        seconds = time.monotonic() - started
    record("github_bad_replay_file", status=answer.status_code, seconds=round(seconds, 2))
    assert answer.status_code == 422 and rel in answer.json()["message"], answer.text
    assert repo.status == 422 and rel in json.dumps(repo.body)
    assert seconds < 5, "the client retried a broken recording"


def test_a_truncated_pypi_replay_gzip_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.sources.pypi.replay import read_day

    from tests.conftest import REPLAY_DIR as BUNDLED_REPLAY_DIR

    day = date(2026, 3, 1)
    (tmp_path / "pypi").mkdir()
    data = (BUNDLED_REPLAY_DIR / "pypi" / f"{day}.jsonl.gz").read_bytes()
    path = tmp_path / "pypi" / f"{day}.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a complete gzip file") as exc:
        read_day(tmp_path / "pypi", day)
    assert str(path) in str(exc.value)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=str(path)):
        read_day(tmp_path / "pypi", day)
    assert gzip.decompress(data)  # the bundled file itself is fine


@pytest.mark.parametrize("subreddit", ["../../etc", "a/b", "", "x", "r/" + "a" * 30, "data engineering", "_x"])
def test_reddit_archive_backfill_refuses_a_subreddit_that_is_not_one(tmp_path: Path, subreddit: str) -> None:
    from madlake.pipelines.reddit import archive_backfill_task

    params = {"subreddit": subreddit or " ", "start": "2021-01-01", "end": "2021-01-02", "archive": str(tmp_path)}
    with pytest.raises(ValueError, match="invalid subreddit"):
        archive_backfill_task({"params": params})


def test_reddit_archive_backfill_names_a_bad_date(tmp_path: Path) -> None:
    from madlake.pipelines.reddit import archive_backfill_task

    params = {"subreddit": "dataengineering", "start": "2021-13-45", "end": "2021-01-02", "archive": str(tmp_path)}
    with pytest.raises(ValueError, match=r"param start='2021-13-45'"):
        archive_backfill_task({"params": params})
