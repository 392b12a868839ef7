"""The live GitHub history client (real httpx) against a local stand-in for raw.githubusercontent.com.

The stand-in serves genuine bundled files at the paths the real host uses: best-of snapshots as they are bundled
(decompressed), and each day's ``Data/github-ranking-<D>.csv`` rebuilt from that day's genuine rows of the bundled
DERIVED file (the tracked repositories' rows of the real daily file, without the added ``date`` column).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from madlake.config import BUNDLED_REPLAY_DIR

from tests.replay_faults import Fault, FaultyReplayServer

pytestmark = pytest.mark.integration

GITHUB = BUNDLED_REPLAY_DIR / "github"
DAYS = [date(2021, 1, 10), date(2021, 1, 11), date(2021, 1, 12), date(2021, 1, 13), date(2021, 2, 4)]


@dataclass
class StandIn:
    server: FaultyReplayServer
    root: Path

    @property
    def url(self) -> str:
        return self.server.url


def _daily_ranking_files(root: Path, days: list[date]) -> None:
    wanted = {d.isoformat() for d in days}
    by_day: dict[str, list[dict[str, str]]] = {}
    for year in sorted({d.year for d in days}):
        path = GITHUB / "github-ranking" / f"DERIVED_tracked_repos_{year}.csv.gz"
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = [c for c in reader.fieldnames or () if c != "date"]
            for row in reader:
                if row["date"] in wanted:
                    by_day.setdefault(row.pop("date"), []).append(row)
    folder = root / "EvanLi" / "Github-Ranking" / "master" / "Data"
    folder.mkdir(parents=True)
    for day, rows in by_day.items():
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (folder / f"github-ranking-{day}.csv").write_text(out.getvalue(), encoding="utf-8")


def _best_of_files(root: Path, days: list[date]) -> None:
    for source in ("best-of-ml-python", "best-of-python"):
        folder = root / "ml-tooling" / source / "main" / "history"
        folder.mkdir(parents=True)
        for day in days:
            path = GITHUB / source / f"{day.isoformat()}_projects.csv.gz"
            if path.exists():
                (folder / f"{day.isoformat()}_projects.csv").write_bytes(gzip.decompress(path.read_bytes()))


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    root = tmp_path / "raw"
    _daily_ranking_files(root, DAYS)
    _best_of_files(root, DAYS)
    with FaultyReplayServer(root, token_path=None) as server:
        yield StandIn(server, root)


def client(url: str, waits: list[float] | None = None, attempts: int = 3):  # type: ignore[no-untyped-def]
    from madlake.sources.github_history.live import RawFilesClient
    from madlake.sources.github_history.settings import GitHubHistorySettings

    recorded = waits if waits is not None else []
    return RawFilesClient(GitHubHistorySettings(raw_url=url, max_attempts=attempts), sleep=recorded.append)


def test_fetches_genuine_files_by_date_and_404_is_no_file(standin: StandIn) -> None:
    with client(standin.url) as c:
        body = c.fetch_day("github-ranking", date(2021, 1, 12))
        assert body is not None and body.startswith(b"rank,item,repo_name,stars")
        snapshot = c.fetch_day("best-of-python", date(2021, 1, 12))
        genuine = gzip.decompress((GITHUB / "best-of-python" / "2021-01-12_projects.csv.gz").read_bytes())
        assert snapshot == genuine
        assert c.fetch_day("best-of-ml-python", date(2021, 1, 12)) is None  # no snapshot dated that day
        assert c.fetch_day("github-ranking", date(2010, 1, 1)) is None
    paths = standin.server.paths_requested()
    assert "/EvanLi/Github-Ranking/master/Data/github-ranking-2021-01-12.csv" in paths
    assert "/ml-tooling/best-of-python/main/history/2021-01-12_projects.csv" in paths


def test_retries_server_errors_rate_limits_and_cut_bodies(standin: StandIn) -> None:
    from madlake.sources.github_history.live import RawFileError

    path = "/EvanLi/Github-Ranking/master/Data/github-ranking-2021-01-12.csv"
    expected = (standin.root / path.lstrip("/")).read_bytes()
    waits: list[float] = []
    standin.server.add_fault(Fault(path, status=500, times=1))
    standin.server.add_fault(Fault(path, status=429, times=1, retry_after=2))
    standin.server.add_fault(Fault(path, status=None, times=1, truncate=100))
    with client(standin.url, waits, attempts=4) as c:
        assert c.fetch(path) == expected
        assert c.retries == 3
    assert waits[1] == 2.0  # Retry-After honoured

    standin.server.add_fault(Fault(path, status=503, times=None))
    with (
        client(standin.url, attempts=2) as c,
        pytest.raises(RawFileError, match=r"github-ranking-2021-01-12\.csv: HTTP 503 after 2"),
    ):
        c.fetch(path)
    standin.server.clear_faults()
    standin.server.add_fault(Fault(path, status=403, times=None))
    with client(standin.url, attempts=3) as c, pytest.raises(RawFileError, match=r"HTTP 403 \(not retried\)"):
        c.fetch(path)
    assert c.requests == 1


def test_live_load_equals_the_replay_load_of_the_same_days(
    standin: StandIn, lakehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.pipelines.github_history import load_range

    def rows() -> list[dict]:
        data = load_table(Table.GITHUB_REPO_HISTORY).scan().to_arrow().drop_columns(["loaded_at"]).to_pylist()
        return sorted(data, key=lambda r: (r["day"], r["repo"], r["source"]))

    start, end = date(2021, 1, 10), date(2021, 1, 13)
    monkeypatch.setenv("MADLAKE_GITHUB_HISTORY_RAW_URL", standin.url)
    live = load_range(start, end, source_mode="live")
    live_rows = rows()
    assert live["mode"] == "live" and live["rows"] == len(live_rows) > 0
    assert live["days_without_file"]["best-of-ml-python"] == 4 and live["days_without_file"]["best-of-python"] == 3
    assert {r["source"] for r in live_rows} == {"github-ranking", "best-of-python"}

    load_range(start, end, source_mode="replay")
    assert rows() == live_rows

    # A live range spanning two months commits once per month.
    summary = load_range(date(2021, 1, 31), date(2021, 2, 4), source_mode="live")
    assert summary["commits"] == 2
    assert {r["day"] for r in rows() if r["day"] >= date(2021, 1, 31)} == {date(2021, 2, 4)}


def test_a_failing_live_file_writes_nothing(standin: StandIn, lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.pipelines.github_history import load_range
    from madlake.sources.github_history.live import RawFileError

    monkeypatch.setenv("MADLAKE_GITHUB_HISTORY_RAW_URL", standin.url)
    monkeypatch.setenv("MADLAKE_GITHUB_HISTORY_MAX_ATTEMPTS", "1")
    standin.server.add_fault(Fault("/ml-tooling/best-of-python/*", status=500, times=None))
    with pytest.raises(RawFileError, match="best-of-python"):
        load_range(date(2021, 1, 10), date(2021, 1, 13), source_mode="live")
    assert load_table(Table.GITHUB_REPO_HISTORY).scan().to_arrow().num_rows == 0
