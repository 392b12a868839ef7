"""Build the GitHub replay recordings (``include/madlake/replay/github/``) from real public figures.

Run by hand, never by tests or the pipeline::

    .venv/bin/python scripts/build_github_replay.py --data <folder with the two CSVs below> \
        [--out include/madlake/replay/github]

Inputs (provenance: ``include/madlake/replay/github/PROVENANCE.md``): ``github-ranking-2026-08-22.csv``
(EvanLi/Github-Ranking, one day)
and ``DERIVED_data_tool_repos_daily_*.csv`` (the same project's daily snapshots of 50 data/ML repositories).

What it writes (the layout is documented in :mod:`madlake.sources.github.replay`):

* ``repos/<owner>/<repo>.json`` for every tracked repository (tools catalog) with figures on ``RECORDED_ON``: a
  ``GET /repos`` body whose stars, forks, open issues (REST counts issues + PRs), ``pushed_at`` (the ranking's
  "last commit"), language and description are the real figures; fields the data does not have are ``null``.
* Two renames the data shows (both names appear in it): ``hwchase17/langchain`` and ``ggerganov/llama.cpp`` answer
  ``301`` to ``/repositories/<id>``.
* ``graphql/RepoMetrics/<owner>/<repo>.json``: only ``nameWithOwner`` (PR counts, releases, commit counts are not in
  the data, so they are absent rather than invented).
* ``graphql/Stargazers/<owner>/<repo>/*.json`` for ``STAR_REPOS``: pages of 100 stargazers newest first, whose
  ``starredAt`` values are SYNTHESIZED: ``max(0, real daily star delta)`` stars per day, spread evenly over the day.
  Daily totals are real; individual timestamps are not (labelled ``sample``).
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

from madlake.catalog import load_catalog
from madlake.sources.github.replay import page_file_name

ROOT = Path(__file__).resolve().parents[1]
RECORDED_ON = date(2026, 8, 22)
STAR_WINDOW_DAYS = 91  # 2026-05-24 .. 2026-08-22: the demo backfills since 2026-05-25; one day older ends the window
STAR_REPOS = (
    "duckdb/duckdb",
    "pola-rs/polars",
    "apache/spark",
    "ClickHouse/ClickHouse",
    "apache/kafka",
    "apache/flink",
    "delta-io/delta",
    "apache/superset",
)
#: Renames visible in the data (old -> new). Repository ids are not in the data: these are placeholders.
RENAMES = {
    "hwchase17/langchain": ("langchain-ai/langchain", 552661142),
    "ggerganov/llama.cpp": ("ggml-org/llama.cpp", 612354784),
}
PAGE = 100
API = "https://api.github.com"


def _write(path: Path, value: object, *, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(value, separators=(",", ":")) if compact else json.dumps(value, indent=1, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def repo_body(full_name: str, row: dict[str, str], repo_id: int | None = None) -> dict[str, object]:
    owner, name = full_name.split("/")
    stars, forks, issues = int(row["stars"]), int(row["forks"]), int(row["issues"])
    return {
        "id": repo_id,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner},
        "html_url": f"https://github.com/{full_name}",
        "url": f"{API}/repos/{full_name}",
        "description": row.get("description") or None,
        "language": row.get("language") or None,
        "stargazers_count": stars,
        "watchers_count": stars,  # REST's legacy alias of the star count
        "forks_count": forks,
        "forks": forks,
        "open_issues_count": issues,
        "open_issues": issues,
        "pushed_at": row.get("last_commit") or None,
        # Not in the data: unknown, left null rather than invented.
        "subscribers_count": None,
        "archived": None,
        "license": None,
        "topics": None,
        "default_branch": None,
        "created_at": None,
        "updated_at": None,
    }


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def stargazer_pages(full_name: str, total: int, daily: dict[date, int]) -> list[dict[str, object]]:
    """Pages (newest first) of synthesized starredAt values reproducing the real daily deltas."""
    days = sorted(d for d in daily if RECORDED_ON - timedelta(days=STAR_WINDOW_DAYS) <= d <= RECORDED_ON)
    stamps: list[datetime] = []
    for d in days:
        prev = daily.get(d - timedelta(days=1))
        if prev is None:
            raise SystemExit(f"{full_name}: no figure for {d - timedelta(days=1)}, cannot derive the delta of {d}")
        n = max(0, daily[d] - prev)
        start = datetime(d.year, d.month, d.day)
        stamps += [start + timedelta(seconds=int((i + 0.5) * 86400 / n)) for i in range(n)]
    stamps.sort(reverse=True)
    pages = []
    for offset in range(0, len(stamps), PAGE):
        chunk = stamps[offset : offset + PAGE]
        pages.append(
            {
                "nameWithOwner": full_name,
                "stargazerCount": total,
                "stargazers": {
                    # More (older) stars exist: the recording stops at the window, the repository's history does not.
                    "pageInfo": {"endCursor": _cursor(offset + len(chunk)), "hasNextPage": True},
                    "edges": [{"starredAt": ts.strftime("%Y-%m-%dT%H:%M:%SZ")} for ts in chunk],
                },
            }
        )
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding the two input CSVs")
    parser.add_argument("--out", type=Path, default=ROOT / "include/madlake/replay/github")
    args = parser.parse_args()

    ranking: dict[str, dict[str, str]] = {}
    with (args.data / "github-ranking-2026-08-22.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ranking[row["repo_url"].split("github.com/")[1].lower()] = row
    daily: dict[str, dict[date, int]] = {}
    latest: dict[str, dict[str, str]] = {}
    derived = next(args.data.glob("DERIVED_data_tool_repos_daily_*.csv"))
    with derived.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = row["repo"].lower()
            daily.setdefault(key, {})[date.fromisoformat(row["date"])] = int(row["stars"])
            if row["date"] == RECORDED_ON.isoformat():
                latest[key] = {**row, "issues": row["open_issues"]}

    for sub in ("repos", "repositories", "graphql"):
        shutil.rmtree(args.out / sub, ignore_errors=True)
    tracked = load_catalog().github_repos()
    recorded = []
    for full_name in sorted(tracked):
        row = ranking.get(full_name.lower()) or latest.get(full_name.lower())
        if row is None:
            continue
        ids = {new.lower(): rid for new, rid in RENAMES.values()}
        body = repo_body(full_name, row, ids.get(full_name.lower()))
        _write(args.out / "repos" / f"{full_name}.json", body)
        _write(args.out / "graphql" / "RepoMetrics" / f"{full_name}.json", {"nameWithOwner": full_name})
        recorded.append(full_name)
    for old, (new, repo_id) in RENAMES.items():
        row = ranking.get(new.lower()) or latest[new.lower()]
        moved = {
            "message": "Moved Permanently",
            "url": f"{API}/repositories/{repo_id}",
            "documentation_url": "https://docs.github.com/v3/#http-redirects",
        }
        _write(args.out / "repos" / f"{old}.json", moved)
        _write(
            args.out / "repos" / f"{old}.headers.json",
            {"status": 301, "headers": {"Location": f"{{base}}/repositories/{repo_id}"}},
        )
        _write(args.out / "repositories" / f"{repo_id}.json", repo_body(new, row, repo_id))
    star_counts = {}
    for full_name in STAR_REPOS:
        total = int((ranking.get(full_name.lower()) or latest[full_name.lower()])["stars"])
        pages = stargazer_pages(full_name, total, daily[full_name.lower()])
        cursor = None
        for page in pages:
            _write(args.out / "graphql" / "Stargazers" / full_name / page_file_name(cursor), page, compact=True)
            cursor = page["stargazers"]["pageInfo"]["endCursor"]  # type: ignore[index]
        star_counts[full_name] = sum(len(p["stargazers"]["edges"]) for p in pages)  # type: ignore[index]
    _write(
        args.out / "_meta.json",
        {
            "recorded_on": RECORDED_ON.isoformat(),
            "labels": {"repos": "replay", "stargazers": "sample"},
            "repos": len(recorded),
            "renames": {old: new for old, (new, _) in RENAMES.items()},
            "star_window": [(RECORDED_ON - timedelta(days=STAR_WINDOW_DAYS)).isoformat(), RECORDED_ON.isoformat()],
            "stargazers": star_counts,
            "built_by": "scripts/build_github_replay.py",
        },
    )
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(
        f"{len(recorded)} repositories, {len(RENAMES)} renames, {sum(star_counts.values())} stargazers "
        f"({len(STAR_REPOS)} repos), {size / 1024:.0f} KiB in {args.out}"
    )


if __name__ == "__main__":
    main()
