"""GitHub: what conditional requests, GraphQL batching and batched checkpoints save. All against the replay server.

1. Snapshot of 300 repositories (synthetic ``sample`` recordings in a temp folder), cold (empty ETag cache) and
   warm (the next day: every repository unchanged, so GitHub answers 304): quota spent and wall time. Baseline = cold.
2. The same repositories' GraphQL metrics in batches of 25 aliases vs one query per repository (baseline).
3. Star-history backfill of the tests' synthesized stargazer pages (``tests/fixtures/replay_overlay``): merge +
   checkpoint after every page (baseline) vs after every 10 pages / 31 days (the default): wall time, Iceberg commits.

The cold snapshot also creates the tables; its time is an upper bound.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPOS = 300


def _recordings(root: Path) -> dict[str, str]:
    repos = {}
    for i in range(REPOS):
        name = f"sample-org{i % 17}/sample-repo{i}"
        path = root / "repos" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"full_name": name, "stargazers_count": 1000 + i, "forks_count": i}))
        gql = root / "graphql" / "RepoMetrics" / f"{name}.json"
        gql.parent.mkdir(parents=True, exist_ok=True)
        gql.write_text(json.dumps({"nameWithOwner": name, "pullRequests": {"totalCount": i % 50}}))
        contributors = root / "repos" / name / "contributors.json"
        contributors.parent.mkdir(parents=True, exist_ok=True)
        contributors.write_text(json.dumps([{"login": "sample", "contributions": 1}]))
        repos[name] = f"sample_tool_{i}"
    return repos


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-github-"))
    os.environ["MADLAKE_HOME"] = str(tmp / "home")
    os.environ["MADLAKE_PROFILE"] = "local"
    from madlake.lakehouse.catalog import reset_catalog_cache

    reset_catalog_cache()
    import madlake.pipelines.github_snapshots as snapshots
    import madlake.pipelines.github_stars as pipeline
    import madlake.sources.github.client as client_mod
    from madlake.sources.github.client import GitHubClient
    from madlake.sources.github.replay import GitHubReplayServer

    repos = _recordings(tmp / "replay" / "github")
    with GitHubReplayServer(tmp / "replay" / "github") as server:
        conn = {"conn_type": "generic", "host": server.url, "password": "bench"}
        os.environ["AIRFLOW_CONN_GITHUB_DEFAULT"] = json.dumps(conn)
        runs = []
        for day in (date(2026, 8, 21), date(2026, 8, 22)):
            used_before = server.used["core"] + server.used["graphql"]
            start = time.perf_counter()
            summary = snapshots.snapshot_repos(day, repos=repos, source_mode="live")
            runs.append(
                (time.perf_counter() - start, server.used["core"] + server.used["graphql"] - used_before, summary)
            )
        (cold_s, cold_q, cold), (warm_s, warm_q, warm) = runs
        print(
            f"snapshot of {REPOS} repos, cold: {cold_s:.2f}s, quota {cold_q} "
            f"({cold['calls']['rest_calls']} REST + {cold['calls']['graphql_calls']} GraphQL calls)"
        )
        print(
            f"snapshot of {REPOS} repos, warm: {warm_s:.2f}s, quota {warm_q} "
            f"({warm['calls']['rest_not_modified']} of {warm['calls']['rest_calls']} REST calls were free 304s)"
        )
        print(f"  quota ratio warm/cold: {warm_q / cold_q:.3f}  time ratio: {warm_s / cold_s:.2f}")

        since = datetime(2026, 7, 25, tzinfo=UTC)
        names = sorted(repos)
        timings = {}
        for batch in (1, client_mod.GRAPHQL_BATCH):
            saved = client_mod.GRAPHQL_BATCH
            client_mod.GRAPHQL_BATCH = batch
            try:
                with GitHubClient(server.url, "bench") as client:
                    start = time.perf_counter()
                    client.repo_metrics(names, since)
                    timings[batch] = (time.perf_counter() - start, client.stats.graphql_calls)
            finally:
                client_mod.GRAPHQL_BATCH = saved
        (one_s, one_calls), (b_s, b_calls) = timings[1], timings[client_mod.GRAPHQL_BATCH]
        print(
            f"GraphQL metrics, 1 repo/query: {one_calls} calls {one_s:.2f}s; {client_mod.GRAPHQL_BATCH}/query: "
            f"{b_calls} calls {b_s:.2f}s  (calls ratio {b_calls / one_calls:.3f}, time ratio {b_s / one_s:.2f})"
        )

    del os.environ["AIRFLOW_CONN_GITHUB_DEFAULT"]
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table

    # The star pages are the tests' synthesized overlay (the bundled replay has none): bundled replay + overlay.
    root = Path(__file__).resolve().parents[1]
    replay = tmp / "stars-replay"  # only GitHub's part: the star backfill reads nothing else
    shutil.copytree(root / "include" / "madlake" / "replay" / "github", replay / "github")
    shutil.copytree(root / "tests" / "fixtures" / "replay_overlay" / "github", replay / "github", dirs_exist_ok=True)
    os.environ["MADLAKE_REPLAY_DIR"] = str(replay)
    results = {}
    for flush_pages, flush_days in ((1, 1), (pipeline.FLUSH_PAGES, pipeline.FLUSH_DAYS)):
        os.environ["MADLAKE_HOME"] = str(tmp / f"stars-{flush_pages}")
        reset_catalog_cache()
        saved_p, saved_d = pipeline.FLUSH_PAGES, pipeline.FLUSH_DAYS
        pipeline.FLUSH_PAGES, pipeline.FLUSH_DAYS = flush_pages, flush_days
        try:
            start = time.perf_counter()
            summary = pipeline.backfill_star_history(None, date(2026, 5, 25), date(2026, 8, 22), source_mode="replay")
            elapsed = time.perf_counter() - start
        finally:
            pipeline.FLUSH_PAGES, pipeline.FLUSH_DAYS = saved_p, saved_d
        commits = len(load_table(Table.GITHUB_STARS_DAILY).metadata.snapshots)
        results[flush_pages] = (elapsed, commits, summary)
    (base_s, base_c, base), (new_s, new_c, _) = results[1], results[pipeline.FLUSH_PAGES]
    print(
        f"star backfill, {base['pages']} pages, {base['days']} days: checkpoint every page {base_s:.2f}s "
        f"{base_c} commits; every {pipeline.FLUSH_PAGES} pages {new_s:.2f}s {new_c} commits "
        f"(time ratio {new_s / base_s:.2f}, commits ratio {new_c / base_c:.2f})"
    )
